using static TorchSharp.torch;

namespace VaeLab.Models.Priors;

/// <summary>
/// The prior p(z) of a VAE: an exact log-density and a sampler. Learned priors carry parameters (trained with the model). The
/// standard normal is the one with a closed-form KL to the Gaussian posteriors; for the others KL(q ‖ p) is estimated by Monte Carlo.
/// </summary>
public abstract class Prior : nn.Module
{
    /// <summary>Creates a prior on <paramref name="latentDimensions"/> dimensions.</summary>
    protected Prior(string name, long latentDimensions) : base(name)
    {
        if (latentDimensions < 1) throw new ArgumentOutOfRangeException(nameof(latentDimensions), latentDimensions, "The latent needs at least one dimension.");
        LatentDimensions = latentDimensions;
    }

    /// <summary>d.</summary>
    public long LatentDimensions { get; }

    /// <summary>The prior as a setting.</summary>
    public abstract PriorSpec Spec { get; }

    /// <summary>Whether this is N(0, I) (the closed-form KL of the Gaussian posteriors applies).</summary>
    public bool IsStandard => Spec.IsStandard;

    /// <summary>The prior's architecture as text, for model signatures.</summary>
    public virtual string Signature => Spec.ToString();

    /// <summary>log p(z) for z [..., d]: [...], nats. Differentiable in z and in the prior's parameters.</summary>
    public abstract Tensor LogDensity(Tensor z);

    /// <summary>
    /// <paramref name="count"/> draws z ~ p(z), [count, d], without gradients, in <paramref name="dtype"/> on <paramref name="device"/>
    /// (the generator, if given, must be of that device).
    /// </summary>
    public abstract Tensor Sample(long count, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null);

    /// <summary>Checks z's last dimension.</summary>
    protected void CheckLatent(Tensor z)
    {
        if (z.dim() < 1 || z.shape[^1] != LatentDimensions)
            throw new ArgumentException($"z must be [..., {LatentDimensions}] for a prior on {LatentDimensions} latent dimensions, got [{string.Join(", ", z.shape)}].", nameof(z));
    }
}
