using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// The decoder's likelihood p(x|z) over D independent dimensions, parameterised by the decoder network's
/// output. A module because some likelihoods learn parameters (a shared or per-pixel σ). All values are
/// natural-log densities (or masses) in nats, summed over dimensions, one per example: every constant kept.
/// </summary>
public abstract class Likelihood : nn.Module
{
    /// <summary>Creates the module.</summary>
    protected Likelihood(string name) : base(name) { }

    /// <summary>Decoder outputs needed per data dimension (1 for logits or means; 2 when the decoder also outputs log σ).</summary>
    public virtual int OutputsPerDimension => 1;

    /// <summary>
    /// Whether log p(x|z) is a density over continuous x (the Gaussians). On quantised data such a density is a likelihood
    /// of the discrete image only after dequantisation (<see cref="PixelTreatment"/>).
    /// </summary>
    public virtual bool IsContinuousDensity => false;

    /// <summary>For a discretised likelihood, the number of pixel levels it puts its mass on (256); null otherwise.</summary>
    public virtual int? DiscreteLevels => null;

    /// <summary>Short description for tables and reports, e.g. "Bernoulli (logits)".</summary>
    public abstract string Description { get; }

    /// <summary>log p(x|z) in nats per example: <paramref name="x"/> is [N, D], <paramref name="decoderOutput"/> is [N, D·OutputsPerDimension]; returns [N].</summary>
    public abstract Tensor LogProb(Tensor x, Tensor decoderOutput);

    /// <summary>The mean of p(x|z) ([N, D]): what a reconstruction or a sample image shows.</summary>
    public abstract Tensor Mean(Tensor decoderOutput);

    /// <summary>Draws x ~ p(x|z) ([N, D]) with <paramref name="generator"/>.</summary>
    public abstract Tensor Sample(Tensor decoderOutput, Generator? generator = null);

    /// <summary>A stable text naming the likelihood and its fixed settings, part of a checkpoint's architecture signature.</summary>
    public abstract string Signature { get; }
}
