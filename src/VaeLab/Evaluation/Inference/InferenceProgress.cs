namespace VaeLab.Evaluation.Inference;

/// <summary>Where a long inference computation stands: its stage ("AIS", "local q*", …) and the work done out of the total.</summary>
/// <param name="Stage">What is running.</param>
/// <param name="Done">Units done (examples × steps of the stage).</param>
/// <param name="Total">Units in the stage.</param>
public sealed record InferenceProgress(string Stage, long Done, long Total)
{
    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => Total == 0 ? 1 : Math.Min(1, Done / (double)Total);
}
