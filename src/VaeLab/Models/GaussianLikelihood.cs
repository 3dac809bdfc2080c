using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// Gaussian likelihood p(x|z) = Π_i N(x_i; μ_i, σ_i²) with the decoder output as μ (identity link), and
/// −log p(x|z) = Σ_i ½ log(2π σ_i²) + (x_i − μ_i)² / (2σ_i²), every constant kept (nats).
/// Learned log σ values are bounded smoothly to [<see cref="MinLogSigma"/>, <see cref="MaxLogSigma"/>]
/// (σ from 0.001 to 10): log σ = min + (max − min)·sigmoid(raw), so the density cannot run off to +∞ by
/// shrinking σ on a pixel that is always 0, and gradients never vanish at a hard clamp.
/// </summary>
public sealed class GaussianLikelihood : Likelihood
{
    /// <summary>Smallest log σ a learned σ can take (σ = 0.001; <see cref="BoundedLogScale.Min"/>).</summary>
    public static readonly double MinLogSigma = BoundedLogScale.Min;

    /// <summary>Largest log σ a learned σ can take (σ = 10; <see cref="BoundedLogScale.Max"/>).</summary>
    public static readonly double MaxLogSigma = BoundedLogScale.Max;

    readonly Parameter? rawLogSigma;
    readonly double fixedSigma;

    /// <summary>Creates a Gaussian likelihood over <paramref name="dimensions"/> dimensions.</summary>
    /// <param name="variance">Where σ comes from.</param>
    /// <param name="dimensions">Data dimensions D (needed for a per-dimension σ).</param>
    /// <param name="sigma">The fixed σ, or the initial σ of a learned one (in [0.001, 10]).</param>
    /// <exception cref="ArgumentOutOfRangeException">σ outside [0.001, 10] or dimensions below 1.</exception>
    public GaussianLikelihood(GaussianVariance variance, long dimensions, double sigma = 1.0) : base(nameof(GaussianLikelihood))
    {
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "At least one dimension is needed.");
        BoundedLogScale.Validate(sigma, nameof(sigma));
        Variance = variance;
        Dimensions = dimensions;
        fixedSigma = sigma;
        rawLogSigma = BoundedLogScale.NewParameter(variance, dimensions, sigma);
        RegisterComponents();
    }

    /// <summary>Where σ comes from.</summary>
    public GaussianVariance Variance { get; }

    /// <summary>Data dimensions D.</summary>
    public long Dimensions { get; }

    /// <inheritdoc />
    public override bool IsContinuousDensity => true;

    /// <inheritdoc />
    public override int OutputsPerDimension => Variance == GaussianVariance.DecoderOutput ? 2 : 1;

    /// <inheritdoc />
    public override string Description => Variance switch
    {
        GaussianVariance.Fixed => $"Gaussian, fixed σ = {fixedSigma.ToString("G4", CultureInfo.InvariantCulture)}",
        GaussianVariance.LearnedShared => "Gaussian, one learned σ",
        GaussianVariance.LearnedPerDimension => "Gaussian, learned σ per pixel",
        _ => "Gaussian, σ output by the decoder",
    };

    /// <inheritdoc />
    public override string Signature => Variance == GaussianVariance.Fixed
        ? $"gaussian-fixed-{fixedSigma.ToString("R", CultureInfo.InvariantCulture)}"
        : $"gaussian-{Variance}-{Dimensions}".ToLowerInvariant();

    /// <summary>The bounded log σ for a decoder output: [1, 1] (fixed, shared), [1, D] (per dimension) or [N, D] (decoder output).</summary>
    public Tensor LogSigma(Tensor decoderOutput) => Variance switch
    {
        GaussianVariance.Fixed => full(new long[] { 1, 1 }, Math.Log(fixedSigma), decoderOutput.dtype, decoderOutput.device),
        GaussianVariance.DecoderOutput => Bound(decoderOutput.chunk(2, 1)[1]),
        _ => Bound(rawLogSigma!).view(1, -1),
    };

    /// <inheritdoc />
    public override Tensor LogProb(Tensor x, Tensor decoderOutput)
    {
        using var scope = NewDisposeScope();
        Tensor mean = Mean(decoderOutput);
        Tensor logSigma = LogSigma(decoderOutput);
        // log N(x; μ, σ²) per dimension with log σ² = 2 log σ, summed over dimensions.
        return DiagonalGaussian.LogDensityPerDimension(x, mean, logSigma.mul(2)).sum(1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor Mean(Tensor decoderOutput) =>
        Variance == GaussianVariance.DecoderOutput ? decoderOutput.chunk(2, 1)[0] : decoderOutput.alias();

    /// <inheritdoc />
    public override Tensor Sample(Tensor decoderOutput, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        Tensor mean = Mean(decoderOutput);
        Tensor noise = randn(mean.shape, mean.dtype, mean.device, generator: generator);
        return mean.add(noise.mul(LogSigma(decoderOutput).exp())).MoveToOuterDisposeScope();
    }

    static Tensor Bound(Tensor raw) => BoundedLogScale.FromRaw(raw);
}
