using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// An encoder: any module mapping a batch of inputs [N, ...] to the parameters λ(x) of the approximate posterior q(z|x),
/// [N, <see cref="OutputSize"/>]. The posterior family (<see cref="Posteriors.PosteriorFamily"/>) says what the columns mean: for
/// the diagonal Gaussian, the mean μ and the log-variance log σ² (2d columns). Implement it to plug in your own architecture.
/// </summary>
public abstract class Encoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="name">The module's name.</param>
    /// <param name="latentDimensions">Latent size d.</param>
    /// <param name="outputSize">Numbers per example, P (null: 2d, a diagonal Gaussian's μ and log σ²).</param>
    protected Encoder(string name, long latentDimensions, long? outputSize = null) : base(name)
    {
        if (latentDimensions < 1) throw new ArgumentOutOfRangeException(nameof(latentDimensions), latentDimensions, "The latent needs at least one dimension.");
        long size = outputSize ?? 2 * latentDimensions;
        if (size < 2 * latentDimensions) throw new ArgumentOutOfRangeException(nameof(outputSize), size, $"An encoder gives at least μ and log σ², 2d = {2 * latentDimensions} numbers per example.");
        LatentDimensions = latentDimensions;
        OutputSize = size;
    }

    /// <summary>Latent dimensions d.</summary>
    public long LatentDimensions { get; }

    /// <summary>Numbers per example the encoder gives, P.</summary>
    public long OutputSize { get; }

    /// <summary>A stable text naming the architecture and its sizes, part of a checkpoint's signature.</summary>
    public abstract string Signature { get; }

    /// <summary>The signature's size suffix: "" for a diagonal Gaussian's 2d outputs (the signatures VaeLab always wrote), "→P" otherwise.</summary>
    protected string OutputSuffix => OutputSize == 2 * LatentDimensions ? "" : $"→{OutputSize}";
}
