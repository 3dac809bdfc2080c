namespace VaeLab.Evaluation.Inference;

/// <summary>A figure in nats per example with its standard error.</summary>
/// <param name="Nats">The value, nats per example (mean over examples).</param>
/// <param name="StandardError">Its standard error over examples (sampling included).</param>
public readonly record struct NatsWithError(double Nats, double StandardError)
{
    /// <summary>The mean of per-example values and its standard error over examples.</summary>
    public static NatsWithError Of(IReadOnlyList<double> perExample)
    {
        int n = perExample.Count;
        if (n == 0) return new(double.NaN, double.NaN);
        double mean = perExample.Average();
        double variance = n > 1 ? perExample.Sum(v => (v - mean) * (v - mean)) / (n - 1) : double.NaN;
        return new(mean, Math.Sqrt(variance / n));
    }

    /// <summary>"value ± se" with two decimals.</summary>
    public override string ToString() => double.IsFinite(StandardError)
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Nats:F2} ± {StandardError:F2}")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Nats:F2} (no standard error from one example)");
}

/// <summary>
/// KL(q(z|x) ‖ p(z|x)) = log p(x) − L[q] split as Cremer, Li and Duvenaud (2018): the approximation gap log p(x) − L[q*]
/// (the posterior family's limit, q* fitted to each example in that family) plus the amortisation gap L[q*] − L[q] (what one shared
/// encoder loses). Every figure is a mean over the same examples (the same dequantisation draws), nats per example, with its
/// standard error over examples; the two gaps add up to log p̂ − L[q] exactly, example by example.
/// </summary>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Dimensions">Data dimensions D per example.</param>
/// <param name="ImportanceSamples">k of the importance-sampled estimate.</param>
/// <param name="LogLikelihoodImportanceSampled">log p(x) by importance sampling with k samples from the encoder's q.</param>
/// <param name="LogLikelihoodAis">log p(x) by forward AIS.</param>
/// <param name="LogLikelihood">log p̂(x): the larger (tighter) of the two stochastic lower bounds.</param>
/// <param name="LogLikelihoodSource">Which one that is ("AIS" or "IS-k").</param>
/// <param name="ElboEncoder">L[q], the encoder's ELBO.</param>
/// <param name="ElboLocal">L[q*], the ELBO of the per-example optimum.</param>
/// <param name="ApproximationGap">log p̂ − L[q*].</param>
/// <param name="AmortisationGap">L[q*] − L[q].</param>
/// <param name="InferenceGap">log p̂ − L[q]: KL(q ‖ p(z|x)) as measured.</param>
/// <param name="Ais">The AIS run (settings, acceptance, time).</param>
/// <param name="LocalOptions">The local optimisation's settings.</param>
/// <param name="LocalSteps">Mean Adam steps the local optimisation took per batch.</param>
/// <param name="Seconds">Wall time of each part: importance sampling, AIS, local optimisation.</param>
public sealed record GapDecomposition(
    int Examples,
    long Dimensions,
    int ImportanceSamples,
    NatsWithError LogLikelihoodImportanceSampled,
    NatsWithError LogLikelihoodAis,
    NatsWithError LogLikelihood,
    string LogLikelihoodSource,
    NatsWithError ElboEncoder,
    NatsWithError ElboLocal,
    NatsWithError ApproximationGap,
    NatsWithError AmortisationGap,
    NatsWithError InferenceGap,
    AisOptions Ais,
    LocalPosteriorOptions LocalOptions,
    double LocalSteps,
    GapTimings Seconds)
{
    /// <summary>Mean HMC acceptance of the AIS run.</summary>
    public double AisAcceptance { get; init; }

    /// <summary>Monte Carlo standard error of the AIS mean alone (delta method over chains).</summary>
    public double AisMonteCarloStandardError { get; init; }

    /// <summary>Monte Carlo standard error of the importance-sampled mean alone (delta method over the k weights).</summary>
    public double ImportanceSamplingMonteCarloStandardError { get; init; }

    /// <summary>Monte Carlo standard error of log p̂'s mean alone: that of the estimator it came from.</summary>
    public double LogLikelihoodMonteCarloStandardError => LogLikelihoodSource == "AIS" ? AisMonteCarloStandardError : ImportanceSamplingMonteCarloStandardError;

    /// <summary>Monte Carlo standard error of the mean L[q] alone (its samples per example), without the spread over examples.</summary>
    public double ElboEncoderMonteCarloStandardError { get; init; }

    /// <summary>Monte Carlo standard error of the mean L[q*] alone.</summary>
    public double ElboLocalMonteCarloStandardError { get; init; }

    /// <summary>How the data was treated and what the figures mean; null when unknown.</summary>
    public VaeLab.Models.PixelTreatment? Treatment { get; init; }

    /// <summary>Each example's figures (null in decompositions read back from a results store).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public GapPerExample? PerExample { get; init; }
}

/// <summary>Seconds spent on each part of a <see cref="GapDecomposition"/>.</summary>
/// <param name="ImportanceSampling">The importance-sampled log p(x).</param>
/// <param name="Ais">Forward AIS.</param>
/// <param name="Local">Fitting q* and scoring q and q*.</param>
public sealed record GapTimings(double ImportanceSampling, double Ais, double Local)
{
    /// <summary>All three.</summary>
    public double Total => ImportanceSampling + Ais + Local;
}
