using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// An encoder q(z|x) = N(μ(x), diag σ²(x)): any module mapping a batch of inputs [N, ...] to the mean and
/// the log-variance log σ², both [N, d]. Implement it to plug in your own architecture.
/// </summary>
public abstract class GaussianEncoder : nn.Module<Tensor, (Tensor Mean, Tensor LogVariance)>
{
    /// <summary>Creates the module.</summary>
    protected GaussianEncoder(string name, long latentDimensions) : base(name)
    {
        if (latentDimensions < 1) throw new ArgumentOutOfRangeException(nameof(latentDimensions), latentDimensions, "The latent needs at least one dimension.");
        LatentDimensions = latentDimensions;
    }

    /// <summary>Latent dimensions d.</summary>
    public long LatentDimensions { get; }

    /// <summary>A stable text naming the architecture and its sizes, part of a checkpoint's signature.</summary>
    public abstract string Signature { get; }
}
