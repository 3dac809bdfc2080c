namespace VaeLab.Evaluation;

/// <summary>The one home of the conversion from a log-likelihood in nats per example to bits per dimension.</summary>
public static class BitsPerDimension
{
    /// <summary>−log₂ p per dimension: −<paramref name="logLikelihoodNats"/> / (D ln 2) for D = <paramref name="dimensions"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">D below 1.</exception>
    public static double FromLogLikelihoodNats(double logLikelihoodNats, long dimensions)
    {
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Bits per dimension need at least one dimension.");
        return -logLikelihoodNats / (dimensions * Math.Log(2));
    }
}
