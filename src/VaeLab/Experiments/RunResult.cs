namespace VaeLab.Experiments;

/// <summary>
/// One finished run of a sweep: its settings and every metric on the test data, nats per example. Written to the
/// results store as one file, atomically, when the run finishes.
/// </summary>
/// <param name="RunId">The run's stable id.</param>
/// <param name="Config">Every setting of the run.</param>
/// <param name="TestElboNats">Test ELBO.</param>
/// <param name="TestElboStandardError">Its standard error over test examples.</param>
/// <param name="ReconstructionLogLikelihoodNats">Test E_q[log p(x|z)].</param>
/// <param name="KlNats">Test KL(q ‖ p): the rate.</param>
/// <param name="DistortionNats">−E_q[log p(x|z)].</param>
/// <param name="LogLikelihoodNats">Importance-sampled log p(x) (NaN when skipped).</param>
/// <param name="LogLikelihoodStandardError">Its Monte Carlo standard error (NaN when skipped).</param>
/// <param name="ActiveUnits">Units with Cov_x E_q[z_u] &gt; 0.01.</param>
/// <param name="KlPerDimensionNats">Mean KL of each latent dimension.</param>
/// <param name="TrainElboByEpoch">Training ELBO of each epoch.</param>
/// <param name="TestElboByEpoch">Test ELBO at the end of each epoch.</param>
/// <param name="WallSeconds">Wall time of the run (training and evaluation), seconds, summed over resumptions.</param>
/// <param name="DataDescription">Which data the run used.</param>
/// <param name="Versions">VaeLab, TorchSharp and libtorch versions.</param>
/// <param name="FinishedUtc">When the row was written.</param>
public sealed record RunResult(
    string RunId,
    RunConfig Config,
    double TestElboNats,
    double TestElboStandardError,
    double ReconstructionLogLikelihoodNats,
    double KlNats,
    double DistortionNats,
    double LogLikelihoodNats,
    double LogLikelihoodStandardError,
    int ActiveUnits,
    double[] KlPerDimensionNats,
    double[] TrainElboByEpoch,
    double[] TestElboByEpoch,
    double WallSeconds,
    string DataDescription,
    string Versions,
    DateTime FinishedUtc)
{
    /// <summary>
    /// MIG, the FactorVAE and β-VAE scores and the latent × factor mutual information, for runs on data with a factor grid
    /// (<see cref="SweepData.Shapes"/>); null otherwise.
    /// </summary>
    public VaeLab.Evaluation.Disentanglement.DisentanglementScores? Disentanglement { get; init; }

    /// <summary>
    /// How the test data was treated and what the figures are: a bound on log P(8-bit image) (dequantised, D·log 256 taken off),
    /// a probability (discretised likelihoods, binary data), or a grey-level cross-entropy (Bernoulli on grey levels); null in
    /// rows written before this was recorded.
    /// </summary>
    public VaeLab.Models.PixelTreatment? Treatment { get; init; }

    /// <summary>How the run's training steps ran (strategy, threads, why); null in rows written before this was recorded.</summary>
    public VaeLab.Training.TrainingStrategy? Strategy { get; init; }

    /// <summary>The inference gap decomposed (AIS, L[q*], approximation and amortisation gaps) when the sweep ran with a gap; null otherwise.</summary>
    public VaeLab.Evaluation.Inference.GapDecomposition? Gap { get; init; }

    /// <summary>SHA-256 of the run's saved model file (lower-case hex), so a truncated, altered or swapped model is caught; null in rows written before this was recorded.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>−log₂ p(x) per dimension from the importance-sampled estimate (else from the ELBO): bits per dimension.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double BitsPerDimension => VaeLab.Evaluation.BitsPerDimension.FromLogLikelihoodNats(double.IsFinite(LogLikelihoodNats) ? LogLikelihoodNats : TestElboNats, Config.Model.InputShape.Aggregate(1L, (a, b) => a * b));
}
