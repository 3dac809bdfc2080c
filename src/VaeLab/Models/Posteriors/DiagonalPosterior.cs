using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// q(z|x) = N(μ, diag σ²), λ = [μ, log σ²] (P = 2d): the mean-field family of Kingma and Welling, with the formulas of
/// <see cref="DiagonalGaussian"/> and the analytic KL of <see cref="GaussianKl"/>. It holds no weights of its own.
/// </summary>
public sealed class DiagonalPosterior : PosteriorFamily
{
    /// <summary>Creates the family for <paramref name="latentDimensions"/> latent dimensions.</summary>
    public DiagonalPosterior(long latentDimensions) : base(nameof(DiagonalPosterior), latentDimensions) => RegisterComponents();

    /// <inheritdoc/>
    public override PosteriorSpec Spec => PosteriorSpec.Diagonal;

    /// <inheritdoc/>
    public override string Signature => "diagonal";

    /// <inheritdoc/>
    public override Tensor Sample(Tensor parameters, Tensor epsilon)
    {
        using var scope = NewDisposeScope();
        return DiagonalGaussian.Sample(Mean(parameters), LogVariance(parameters), epsilon).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override (Tensor Z, Tensor LogDensity) SampleWithLogDensity(Tensor parameters, Tensor epsilon)
    {
        Tensor z = Sample(parameters, epsilon);
        return (z, LogDensity(z, parameters));
    }

    /// <inheritdoc/>
    public override Tensor LogDensity(Tensor z, Tensor parameters)
    {
        using var scope = NewDisposeScope();
        return DiagonalGaussian.LogDensity(z, Mean(parameters), LogVariance(parameters)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor? AnalyticKlToStandardNormal(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        return GaussianKl.ToStandardNormal(Mean(parameters), LogVariance(parameters)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor? AnalyticKlPerDimension(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        return GaussianKl.PerDimension(Mean(parameters), LogVariance(parameters)).MoveToOuterDisposeScope();
    }
}
