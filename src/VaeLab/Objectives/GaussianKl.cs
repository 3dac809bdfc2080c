using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>
/// The analytic KL divergence of a diagonal Gaussian q = N(μ, diag σ²) from the standard normal prior
/// p(z) = N(0, I): KL(q‖p) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²) ≥ 0, in nats, zero exactly at μ = 0, σ = 1.
/// (The notes write its negative: −KL = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²).)
/// </summary>
public static class GaussianKl
{
    /// <summary>KL per latent dimension: [N, d] from μ and log σ² of shape [N, d].</summary>
    public static Tensor PerDimension(Tensor mean, Tensor logVariance) =>
        mean.square().add(logVariance.exp()).sub(1).sub(logVariance).mul(0.5);

    /// <summary>KL per example, summed over latent dimensions: [N].</summary>
    public static Tensor ToStandardNormal(Tensor mean, Tensor logVariance)
    {
        using Tensor perDimension = PerDimension(mean, logVariance);
        return perDimension.sum(1);
    }
}
