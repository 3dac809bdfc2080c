namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Settings of the per-example fit of q*(z|x) (<see cref="LocalPosterior"/>) and of the ELBO estimates that score q and q*.
/// Stopping rule: every <see cref="Window"/> steps the mean ELBO of the batch over that window is compared with the previous
/// window's; after two windows in a row that rose by less than <see cref="Tolerance"/> nats per example (one could be Monte
/// Carlo noise) the rate drops tenfold and the fit goes on (at most <see cref="LearningRateDrops"/> times), else it stops; it
/// always stops at <see cref="MaxSteps"/>. The fit returns the average of the last window's iterates (Polyak averaging).
/// Batches stop together, so an example's q* depends a little on which examples share its batch.
/// </summary>
/// <param name="SamplesPerStep">Reparameterised z per example in each Adam step's ELBO estimate.</param>
/// <param name="LearningRate">Adam's learning rate on μ and log σ².</param>
/// <param name="MaxSteps">Most Adam steps.</param>
/// <param name="Window">Steps per window of the stopping rule.</param>
/// <param name="Tolerance">Smallest rise of the windowed mean ELBO (nats per example) that keeps the fit going.</param>
/// <param name="EvaluationSamples">z per example for the final estimates of L[q] and L[q*] (their standard errors shrink as 1/√this).</param>
/// <param name="ExamplesPerBatch">Examples optimised together (each with its own μ, log σ² and Adam moments).</param>
/// <param name="LearningRateDrops">Times the rate drops tenfold at a plateau before the fit stops.</param>
public sealed record LocalPosteriorOptions(
    int SamplesPerStep = 16,
    double LearningRate = 1e-2,
    int MaxSteps = 3000,
    int Window = 100,
    double Tolerance = 0.01,
    int EvaluationSamples = 1000,
    int ExamplesPerBatch = 250,
    int LearningRateDrops = 1)
{
    /// <summary>Small settings for tests and the quick mode of notebooks.</summary>
    public static LocalPosteriorOptions Quick { get; } = new(SamplesPerStep: 8, MaxSteps: 400, Window: 50, Tolerance: 0.05, EvaluationSamples: 200);

    /// <summary>Throws on settings that cannot run.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The setting that is out of range, named.</exception>
    public void Validate()
    {
        if (SamplesPerStep < 1) throw new ArgumentOutOfRangeException(nameof(SamplesPerStep), SamplesPerStep, "Each step needs at least one sample of z.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive number.");
        if (MaxSteps < 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "The number of steps cannot be negative.");
        if (Window < 1) throw new ArgumentOutOfRangeException(nameof(Window), Window, "The stopping window must be at least one step.");
        if (!(Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance cannot be negative.");
        if (EvaluationSamples < 2) throw new ArgumentOutOfRangeException(nameof(EvaluationSamples), EvaluationSamples, "At least two samples are needed for a standard error.");
        if (LearningRateDrops < 0) throw new ArgumentOutOfRangeException(nameof(LearningRateDrops), LearningRateDrops, "The number of rate drops cannot be negative.");
        if (ExamplesPerBatch < 1) throw new ArgumentOutOfRangeException(nameof(ExamplesPerBatch), ExamplesPerBatch, "A batch holds at least one example.");
    }
}
