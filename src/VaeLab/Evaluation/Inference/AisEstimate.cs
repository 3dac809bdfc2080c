namespace VaeLab.Evaluation.Inference;

/// <summary>Which way an AIS run anneals.</summary>
public enum AisDirection
{
    /// <summary>Prior to posterior from prior draws: a stochastic lower bound on log p(x).</summary>
    Forward,

    /// <summary>Posterior to prior from exact posterior draws (simulated data): a stochastic upper bound on log p(x).</summary>
    Reverse,
}

/// <summary>
/// An annealed importance sampling estimate of log p(x) per example, nats: the log-mean-exp of the chains' weights (forward),
/// or minus the log-mean-exp of the reverse weights (reverse, an upper bound). Means are over examples.
/// </summary>
/// <param name="Direction">Forward (lower bound) or reverse (upper bound).</param>
/// <param name="Options">The settings it ran with.</param>
/// <param name="Dimensions">Data dimensions D per example.</param>
/// <param name="PerExampleNats">The estimate for each example.</param>
/// <param name="PerExampleVariance">The Monte Carlo variance of each example's estimate (delta method over its chains).</param>
/// <param name="MeanAcceptance">Mean HMC acceptance probability over all transitions and chains.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record AisEstimate(AisDirection Direction, AisOptions Options, long Dimensions, double[] PerExampleNats, double[] PerExampleVariance, double MeanAcceptance, double Seconds)
{
    /// <summary>Examples estimated.</summary>
    public int Examples => PerExampleNats.Length;

    /// <summary>The mean over examples, nats per example.</summary>
    public double LogLikelihoodNats => PerExampleNats.Average();

    /// <summary>Standard error of that mean from the sampling alone: √(Σ Var_i) / n.</summary>
    public double MonteCarloStandardError => Math.Sqrt(PerExampleVariance.Sum()) / Examples;

    /// <summary>Standard error of that mean over examples (the spread of log p(x) across the data, sampling included).</summary>
    public double DataStandardError
    {
        get
        {
            if (Examples < 2) return double.NaN;
            double mean = LogLikelihoodNats;
            return Math.Sqrt(PerExampleNats.Sum(v => (v - mean) * (v - mean)) / (Examples - 1) / Examples);
        }
    }

    /// <summary>Examples per second.</summary>
    public double ExamplesPerSecond => Examples / Math.Max(Seconds, 1e-9);
}
