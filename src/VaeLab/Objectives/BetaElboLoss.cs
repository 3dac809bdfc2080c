using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>
/// The β-ELBO loss, loss = (1/n) Σᵢ [β KLᵢ − E_q[log p(xᵢ|z)]] in nats per example, in its one home: autograd's route
/// (<see cref="ElboEstimate.BetaLoss"/>) and the hand-derived training steps all call it. β = 1 gives −ELBO.
/// </summary>
public static class BetaElboLoss
{
    /// <summary>The loss of per-example terms [n]: the mean of β KLᵢ − E_q[log p(xᵢ|z)].</summary>
    public static Tensor Mean(Tensor reconstructionLogLikelihoodNats, Tensor klNats, double beta) =>
        klNats.mul(beta).sub(reconstructionLogLikelihoodNats).mean();

    /// <summary>The same loss from the terms' sums over <paramref name="examples"/> examples (the hand-derived steps' route).</summary>
    public static double Mean(double reconstructionSumNats, double klSumNats, double beta, long examples) =>
        (beta * klSumNats - reconstructionSumNats) / examples;

    /// <summary>∂loss/∂KLᵢ = β/n: the weight with which each example's KL gradient enters the hand-derived backward pass.</summary>
    public static double KlWeight(double beta, long examples) => beta / examples;
}
