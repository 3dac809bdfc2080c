using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// The formulas of the notes that the checks put to the test. The defaults are VaeLab's own; a test (or a
/// curious reader) can hand in a deliberately wrong one and watch the checks fail, so none can pass vacuously.
/// </summary>
/// <param name="Kl">KL(N(μ, diag σ²) ‖ N(0, I)) per example from μ and log σ² [N, d]: [N].</param>
/// <param name="GaussianNegativeLogLikelihood">−log N(x; μ, σ²) per example from x, μ [N, D] and log σ (broadcastable): [N].</param>
/// <param name="Reparameterize">z from μ, log σ² and ε: the sample f(μ, Σ) = μ + σ·ε.</param>
public sealed record DerivationFormulas(
    Func<Tensor, Tensor, Tensor> Kl,
    Func<Tensor, Tensor, Tensor, Tensor> GaussianNegativeLogLikelihood,
    Func<Tensor, Tensor, Tensor, Tensor> Reparameterize)
{
    static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>VaeLab's formulas: the analytic KL, the Gaussian cost with every constant, μ + exp(½ log σ²)·ε.</summary>
    public static DerivationFormulas Library { get; } = new(
        GaussianKl.ToStandardNormal,
        (x, mean, logSigma) =>
        {
            using var scope = NewDisposeScope();
            return (x - mean).square().mul(logSigma.mul(-2).exp()).mul(0.5).add(logSigma).add(HalfLog2Pi).sum(1).MoveToOuterDisposeScope();
        },
        (mean, logVariance, epsilon) => mean + logVariance.mul(0.5).exp() * epsilon);
}
