using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// The one home of the diagonal-Gaussian formulas of the notes, parameterised by log σ² as the encoder gives
/// them: the reparameterised sample μ + σ ⊙ ε with σ = exp(½ log σ²), the log-density log N(x; μ, diag σ²)
/// with its ½ log 2π per dimension, and the prior's log N(z; 0, I). Every caller in the library (the VAE's
/// sampling step, the Gaussian likelihood, the importance weights) uses these; the derivation checks compare
/// them with computations written another way.
/// </summary>
public static class DiagonalGaussian
{
    /// <summary>½ log 2π, the per-dimension constant of a Gaussian log-density (nats).</summary>
    public static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>σ = exp(½ log σ²), elementwise.</summary>
    public static Tensor StandardDeviation(Tensor logVariance) => logVariance.mul(0.5).exp();

    /// <summary>The sampling step f(μ, Σ) = μ + σ ⊙ ε for given noise ε (broadcasting): differentiable in μ and log σ².</summary>
    public static Tensor Sample(Tensor mean, Tensor logVariance, Tensor epsilon)
    {
        using Tensor sigma = StandardDeviation(logVariance);
        return mean.addcmul(sigma, epsilon, 1);
    }

    /// <summary>log N(x_i; μ_i, σ_i²) = −½ log 2π − ½ log σ_i² − (x_i − μ_i)² / (2σ_i²) per element (broadcasting), nats.</summary>
    public static Tensor LogDensityPerDimension(Tensor x, Tensor mean, Tensor logVariance)
    {
        using var scope = NewDisposeScope();
        return (x - mean).square().mul(logVariance.neg().exp()).add(logVariance).mul(-0.5).sub(HalfLog2Pi).MoveToOuterDisposeScope();
    }

    /// <summary>log N(x; μ, diag σ²) summed over the last dimension, nats: log q(z|x) for the encoder's (μ, log σ²).</summary>
    public static Tensor LogDensity(Tensor x, Tensor mean, Tensor logVariance)
    {
        using Tensor perDimension = LogDensityPerDimension(x, mean, logVariance);
        return perDimension.sum(-1);
    }

    /// <summary>The prior's log N(z; 0, I) = −½ Σ_j (z_j² + log 2π), summed over the last dimension, nats.</summary>
    public static Tensor LogStandardNormal(Tensor z)
    {
        using var scope = NewDisposeScope();
        return z.square().mul(-0.5).sub(HalfLog2Pi).sum(-1).MoveToOuterDisposeScope();
    }
}
