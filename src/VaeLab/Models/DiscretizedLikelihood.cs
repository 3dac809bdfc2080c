using System.Globalization;
using TorchSharp.Modules;
using VaeLab.Data;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A true probability mass over the L levels of each pixel (Salimans et al. 2017, PixelCNN++; Kingma et al. 2016, IAF):
/// a continuous Gaussian or logistic with location μ (the decoder output) and a learned scale is integrated over each
/// level's bin [k/L, (k + 1)/L) (<see cref="PixelBins"/>), the first bin open to −∞ and the last to +∞, so the L masses sum
/// to 1 for any parameters. log p(x|z) = Σ_i log P(k_i) in nats, computed in log space without cancellation:
/// logistic: log(σ(a) − σ(b)) = log σ(a) + log σ(−b) + log(1 − e^(b − a)); Gaussian: log Φ accurate in both tails
/// (<see cref="LogNormalCdf"/>) and the difference taken in the tail away from the mode. The scale is bounded like the Gaussian's (<see cref="BoundedLogScale"/>).
/// </summary>
public sealed class DiscretizedLikelihood : Likelihood
{
    readonly Parameter? rawLogScale;
    readonly double fixedScale;

    /// <summary>Creates a discretised likelihood over <paramref name="dimensions"/> pixels of <paramref name="levels"/> levels.</summary>
    /// <param name="family">Gaussian or logistic.</param>
    /// <param name="scale">Where the scale comes from (as for the Gaussian: fixed, one learned, one per pixel, or from the decoder).</param>
    /// <param name="dimensions">Pixels D.</param>
    /// <param name="levels">Levels per pixel (256 for 8-bit images).</param>
    /// <param name="initialScale">The fixed scale, or the initial one of a learned scale (in [0.001, 10], in units of the [0, 1] pixel range).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 levels or 1 pixel, or a scale outside the bounds.</exception>
    public DiscretizedLikelihood(DiscretizedFamily family, GaussianVariance scale, long dimensions, int levels = 256, double initialScale = 1.0)
        : base(nameof(DiscretizedLikelihood))
    {
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "At least one pixel is needed.");
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), levels, "A discretised likelihood needs at least 2 levels.");
        BoundedLogScale.Validate(initialScale, nameof(initialScale));
        Family = family;
        Scale = scale;
        Dimensions = dimensions;
        Levels = levels;
        fixedScale = initialScale;
        double raw = BoundedLogScale.RawFor(Math.Log(initialScale));
        rawLogScale = scale switch
        {
            GaussianVariance.LearnedShared => new Parameter(full(new long[] { 1 }, raw, ScalarType.Float32)),
            GaussianVariance.LearnedPerDimension => new Parameter(full(new long[] { dimensions }, raw, ScalarType.Float32)),
            _ => null,
        };
        RegisterComponents();
    }

    /// <summary>Gaussian or logistic.</summary>
    public DiscretizedFamily Family { get; }

    /// <summary>Where the scale comes from.</summary>
    public GaussianVariance Scale { get; }

    /// <summary>Pixels D.</summary>
    public long Dimensions { get; }

    /// <summary>Levels per pixel L.</summary>
    public int Levels { get; }

    /// <inheritdoc />
    public override int? DiscreteLevels => Levels;

    /// <inheritdoc />
    public override int OutputsPerDimension => Scale == GaussianVariance.DecoderOutput ? 2 : 1;

    /// <inheritdoc />
    public override string Description => $"discretised {Family.ToString().ToLowerInvariant()} over {Levels} levels, " + Scale switch
    {
        GaussianVariance.Fixed => $"fixed scale {fixedScale.ToString("G4", CultureInfo.InvariantCulture)}",
        GaussianVariance.LearnedShared => "one learned scale",
        GaussianVariance.LearnedPerDimension => "learned scale per pixel",
        _ => "scale output by the decoder",
    };

    /// <inheritdoc />
    public override string Signature => ($"discretized-{Family}-{Levels}-" + (Scale == GaussianVariance.Fixed
        ? $"fixed-{fixedScale.ToString("R", CultureInfo.InvariantCulture)}"
        : $"{Scale}-{Dimensions}")).ToLowerInvariant();

    /// <summary>The bounded log scale for a decoder output: [1, 1] (fixed, shared), [1, D] (per pixel) or [N, D] (decoder output).</summary>
    public Tensor LogScale(Tensor decoderOutput) => Scale switch
    {
        GaussianVariance.Fixed => full(new long[] { 1, 1 }, Math.Log(fixedScale), decoderOutput.dtype, decoderOutput.device),
        GaussianVariance.DecoderOutput => BoundedLogScale.FromRaw(decoderOutput.chunk(2, 1)[1]),
        _ => BoundedLogScale.FromRaw(rawLogScale!).view(1, -1).to_type(decoderOutput.dtype),
    };

    /// <inheritdoc />
    public override Tensor LogProb(Tensor x, Tensor decoderOutput)
    {
        using var scope = NewDisposeScope();
        return LogMassPerPixel(x, decoderOutput).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>log P(k_i) of each pixel's level, [N, D], nats.</summary>
    public Tensor LogMassPerPixel(Tensor x, Tensor decoderOutput)
    {
        using var scope = NewDisposeScope();
        Tensor mean = Mean(decoderOutput);
        Tensor inverseScale = LogScale(decoderOutput).neg().exp();
        Tensor level = PixelBins.Level(x, Levels);
        Tensor upper = (PixelBins.UpperEdge(level, Levels) - mean) * inverseScale;   // a: standardised upper edge
        Tensor lower = (PixelBins.LowerEdge(level, Levels) - mean) * inverseScale;   // b: standardised lower edge
        Tensor first = level == 0, last = level == Levels - 1;
        Tensor logMass = Family == DiscretizedFamily.Logistic
            ? LogisticBinMass(upper, lower, first, last)
            : GaussianBinMass(upper, lower, first, last);
        return logMass.MoveToOuterDisposeScope();
    }

    static Tensor LogisticBinMass(Tensor a, Tensor b, Tensor first, Tensor last)
    {
        Tensor logUpper = nn.functional.logsigmoid(a);          // log σ(a): the mass below a
        Tensor logAboveLower = nn.functional.logsigmoid(b.neg()); // log σ(−b) = log(1 − σ(b)): the mass above b
        // σ(a) − σ(b) = σ(a) σ(−b) (1 − e^(b − a)), every factor positive: no cancellation.
        Tensor inner = logUpper + logAboveLower + Log1MinusExp(b - a);
        return where(first, logUpper, where(last, logAboveLower, inner));
    }

    static Tensor GaussianBinMass(Tensor a, Tensor b, Tensor first, Tensor last)
    {
        // Φ(a) − Φ(b) = Φ(−b) − Φ(−a): take the difference in the tail away from the mode, where log Φ is accurate.
        Tensor right = b > 0;
        Tensor high = where(right, b.neg(), a), low = where(right, a.neg(), b);
        Tensor logHigh = LogNormalCdf(high);
        Tensor inner = logHigh + Log1MinusExp(LogNormalCdf(low) - logHigh);
        return where(first, LogNormalCdf(a), where(last, LogNormalCdf(b.neg()), inner));
    }

    /// <summary>
    /// log Φ(z), accurate in both tails: log1p(−½ erfc(z/√2)) above 0; log(½ erfc(−z/√2)) down to −20 (−10 in float32, where
    /// Φ still has a normal exponent); below that the asymptotic series log Φ(z) = −z²/2 − log(−z) − ½ log 2π
    /// + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − 945/z¹⁰), whose first omitted term is below 1e-11 there (1e-8 in float32).
    /// Each branch sees clamped input, so no gradient is NaN. (TorchSharp 0.107's special.erfcx computes erfc and its
    /// special.ndtr returns 0 below about −9, so both are avoided.)
    /// </summary>
    public static Tensor LogNormalCdf(Tensor z)
    {
        double switchPoint = z.dtype == ScalarType.Float64 ? -20 : -10;
        Tensor positive = z.clamp_min(0), middle = z.clamp(switchPoint, 0), tail = z.clamp_max(switchPoint);
        Tensor upper = special.erfc(positive.div(Math.Sqrt(2))).mul(-0.5).log1p();
        Tensor centre = special.erfc(middle.neg().div(Math.Sqrt(2))).mul(0.5).log();
        Tensor inverseSquare = tail.square().reciprocal();
        // 1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − 945/z¹⁰, by Horner's rule in 1/z².
        Tensor series = inverseSquare.mul(-945).add(105).mul(inverseSquare).sub(15).mul(inverseSquare).add(3).mul(inverseSquare).sub(1).mul(inverseSquare).add(1);
        Tensor asymptotic = tail.square().mul(-0.5) - tail.neg().log() - 0.5 * Math.Log(2 * Math.PI) + series.log();
        return where(z >= 0, upper, where(z >= switchPoint, centre, asymptotic));
    }

    /// <summary>log(1 − e^t) for t &lt; 0, accurate near 0 and far below it (Mächler 2012).</summary>
    static Tensor Log1MinusExp(Tensor t)
    {
        Tensor near = t.clamp_min(-Math.Log(2)), far = t.clamp_max(-Math.Log(2));   // each branch on its own range
        return where(t > -Math.Log(2), near.expm1().neg().log(), far.exp().neg().log1p());
    }

    /// <inheritdoc />
    public override Tensor Mean(Tensor decoderOutput) =>
        Scale == GaussianVariance.DecoderOutput ? decoderOutput.chunk(2, 1)[0] : decoderOutput.alias();

    /// <inheritdoc />
    /// <remarks>A draw of the continuous variable, binned: level ⌊y·L⌋ clamped to the open edge bins, returned as k/(L − 1) like the data.</remarks>
    public override Tensor Sample(Tensor decoderOutput, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        Tensor mean = Mean(decoderOutput);
        Tensor noise = Family == DiscretizedFamily.Logistic
            ? special.logit(rand(mean.shape, mean.dtype, mean.device, generator: generator).clamp(1e-12, 1 - 1e-12))
            : randn(mean.shape, mean.dtype, mean.device, generator: generator);
        Tensor y = mean + noise * LogScale(decoderOutput).exp();
        Tensor level = y.mul(Levels).floor().clamp(0, Levels - 1);
        return level.div(Levels - 1).MoveToOuterDisposeScope();
    }
}
