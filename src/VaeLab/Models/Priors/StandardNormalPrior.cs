using static TorchSharp.torch;

namespace VaeLab.Models.Priors;

/// <summary>p(z) = N(0, I): log p(z) = −½‖z‖² − (d/2) log 2π.</summary>
public sealed class StandardNormalPrior : Prior
{
    /// <summary>Creates N(0, I) on <paramref name="latentDimensions"/> dimensions.</summary>
    public StandardNormalPrior(long latentDimensions) : base(nameof(StandardNormalPrior), latentDimensions) { }

    /// <inheritdoc />
    public override PriorSpec Spec => PriorSpec.Standard;

    /// <inheritdoc />
    public override Tensor LogDensity(Tensor z)
    {
        CheckLatent(z);
        return DiagonalGaussian.LogStandardNormal(z);
    }

    /// <inheritdoc />
    public override Tensor Sample(long count, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        randn(new long[] { count, LatentDimensions }, dtype, device ?? CPU, generator: generator);
}
