namespace VaeLab.Evaluation;

/// <summary>
/// Importance-sampled log p(x) with k samples per example (the IWAE_k estimate, a stochastic lower bound
/// in expectation that tightens as k grows), averaged over the examples, nats per example.
/// </summary>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Dimensions">Data dimensions D per example.</param>
/// <param name="Samples">k, importance samples per example.</param>
/// <param name="LogLikelihoodNats">Mean over examples of log (1/k) Σ_i w_i.</param>
/// <param name="MonteCarloStandardError">Standard error of that mean due to the importance sampling alone (delta method on each example's weights).</param>
/// <param name="DataStandardError">Standard error of the mean over examples (spread of log p(x) across the data).</param>
public sealed record LogLikelihoodEstimate(int Examples, long Dimensions, int Samples, double LogLikelihoodNats, double MonteCarloStandardError, double DataStandardError)
{
    /// <summary>How the data was treated and what the figures mean (dequantised bound, probability, or grey-level cross-entropy); null when unknown.</summary>
    public VaeLab.Models.PixelTreatment? Treatment { get; init; }

    /// <summary>Each example's log (1/k) Σ_i w_i, in the data's order (null in estimates made before this was kept).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[]? PerExampleNats { get; init; }

    /// <summary>−log p(x) in bits per dimension.</summary>
    public double NegativeLogLikelihoodBitsPerDimension => BitsPerDimension.FromLogLikelihoodNats(LogLikelihoodNats, Dimensions);
}
