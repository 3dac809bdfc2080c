using VaeLab.Kernels;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// Bernoulli likelihood on logits: log p(x|z) = Σ_i x_i log σ(l_i) + (1 − x_i) log(1 − σ(l_i)), computed stably
/// as −Σ BCE-with-logits. A probability mass for binary x; on grey levels in [0, 1] it is the cross-entropy the
/// pytorch/examples VAE uses (not a normalised density: compare such numbers only with each other).
/// </summary>
public sealed class BernoulliLikelihood : Likelihood
{
    /// <summary>Creates the likelihood.</summary>
    public BernoulliLikelihood() : base(nameof(BernoulliLikelihood)) { }

    /// <inheritdoc />
    public override string Description => "Bernoulli (logits)";

    /// <inheritdoc />
    public override string Signature => "bernoulli";

    /// <inheritdoc />
    public override Tensor LogProb(Tensor x, Tensor decoderOutput) =>
        BernoulliKernel.Applies(x, decoderOutput)
            ? BernoulliKernel.LogProb(x, decoderOutput)   // evaluation: one vectorised pass (the same sum, tested against the line below)
            : nn.functional.binary_cross_entropy_with_logits(decoderOutput, x, reduction: nn.Reduction.None).sum(1).neg();

    /// <inheritdoc />
    public override Tensor Mean(Tensor decoderOutput) => decoderOutput.sigmoid();

    /// <inheritdoc />
    public override Tensor Sample(Tensor decoderOutput, Generator? generator = null)
    {
        using var probabilities = decoderOutput.sigmoid();
        return bernoulli(probabilities, generator);
    }
}
