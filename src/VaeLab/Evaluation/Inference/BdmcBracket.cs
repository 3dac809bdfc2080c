namespace VaeLab.Evaluation.Inference;

/// <summary>A BDMC bracket: forward AIS (lower) and reverse AIS (upper) on the same simulated examples, nats per example.</summary>
/// <param name="Lower">Forward AIS, a stochastic lower bound.</param>
/// <param name="Upper">Reverse AIS, a stochastic upper bound.</param>
public sealed record BdmcBracket(AisEstimate Lower, AisEstimate Upper)
{
    /// <summary>Mean upper − mean lower, nats per example: how far either can be from log p(x).</summary>
    public double WidthNats => Upper.LogLikelihoodNats - Lower.LogLikelihoodNats;
}
