using System.Globalization;
using TorchSharp;
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
    // Constants as Scalars made once. An implicit double → Scalar conversion allocates a native Scalar on every call that
    // only the finalizer frees; with the ~100 conversions of one bin-mass evaluation that held gigabytes (measured: RSS
    // grew without bound during evaluation and fell back after GC.Collect + WaitForPendingFinalizers).
    static readonly Scalar Zero = 0.0, Half = 0.5, MinusHalf = -0.5, InverseSqrt2 = 1 / Math.Sqrt(2), MinusLn2 = -Math.Log(2),
        HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI), SwitchFloat64 = -20.0, SwitchFloat32 = -10.0,
        C1 = 1.0, C3 = 3.0, C15 = 15.0, C105 = 105.0, MinusC945 = -945.0;

    readonly Parameter? rawLogScale;
    readonly double fixedScale;
    readonly Scalar lastLevel;

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
        lastLevel = (double)(levels - 1);
        rawLogScale = BoundedLogScale.NewParameter(scale, dimensions, initialScale);
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
    /// <remarks>
    /// Without gradients (evaluation) the rows go through in chunks of <see cref="EvaluationRows"/>: the bin mass takes some
    /// 180 element-wise temporaries, and on the importance sampler's 4,000-row blocks all of them alive at once (2 GB)
    /// fragmented the allocator until a 10-epoch run's evaluation was killed at 24 GB.
    /// </remarks>
    public Tensor LogMassPerPixel(Tensor x, Tensor decoderOutput)
    {
        long rows = decoderOutput.shape[0];
        if (is_grad_enabled() || rows <= EvaluationRows) return LogMassOfRows(x, decoderOutput);
        using var scope = NewDisposeScope();
        Tensor xs = x.expand(rows, -1);
        var parts = new List<Tensor>();
        for (long start = 0; start < rows; start += EvaluationRows)
        {
            using var chunk = NewDisposeScope();
            long size = Math.Min(EvaluationRows, rows - start);
            parts.Add(LogMassOfRows(xs.narrow(0, start, size), decoderOutput.narrow(0, start, size)).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Rows per block when the masses are computed without gradients.</summary>
    public const int EvaluationRows = 256;

    Tensor LogMassOfRows(Tensor x, Tensor decoderOutput)
    {
        using var scope = NewDisposeScope();
        Tensor mean = Mean(decoderOutput);
        Tensor inverseScale = LogScale(decoderOutput).neg().exp();
        Tensor level = PixelBins.Level(x, Levels);
        Tensor upper = (PixelBins.UpperEdge(level, Levels) - mean) * inverseScale;   // a: standardised upper edge
        Tensor lower = (PixelBins.LowerEdge(level, Levels) - mean) * inverseScale;   // b: standardised lower edge
        Tensor first = level.eq(Zero), last = level.eq(lastLevel);
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
        Tensor right = b.gt(Zero);
        Tensor high = where(right, b.neg(), a), low = where(right, a.neg(), b);
        Tensor logHigh = LogNormalCdf(high), logLow = LogNormalCdf(low);
        Tensor inner = logHigh + Log1MinusExp(logLow - logHigh);
        // The open edge bins from the same two values: log Φ(a) and log Φ(−b) are log Φ(high), or log(1 − Φ(low)) where
        // low is at most 0 (so 1 − Φ(low) ≥ ½ loses nothing); two log Φ evaluations instead of four.
        Tensor complement = Log1MinusExp(logLow);
        Tensor firstMass = where(right, complement, logHigh);   // log Φ(a)
        Tensor lastMass = where(right, logHigh, complement);    // log Φ(−b)
        return where(first, firstMass, where(last, lastMass, inner));
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
        using var scope = NewDisposeScope();
        Scalar switchPoint = z.dtype == ScalarType.Float64 ? SwitchFloat64 : SwitchFloat32;
        Tensor positive = z.clamp_min(Zero), middle = z.clamp(switchPoint, Zero), tail = z.clamp_max(switchPoint);
        Tensor upper = special.erfc(positive.mul(InverseSqrt2)).mul(MinusHalf).log1p();
        Tensor centre = special.erfc(middle.neg().mul(InverseSqrt2)).mul(Half).log();
        Tensor inverseSquare = tail.square().reciprocal();
        // 1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − 945/z¹⁰, by Horner's rule in 1/z².
        Tensor series = inverseSquare.mul(MinusC945).add(C105).mul(inverseSquare).sub(C15).mul(inverseSquare).add(C3).mul(inverseSquare).sub(C1).mul(inverseSquare).add(C1);
        Tensor asymptotic = tail.square().mul(MinusHalf).sub(tail.neg().log()).sub(HalfLog2Pi).add(series.log());
        return where(z.ge(Zero), upper, where(z.ge(switchPoint), centre, asymptotic)).MoveToOuterDisposeScope();
    }

    /// <summary>log(1 − e^t) for t &lt; 0, accurate near 0 and far below it (Mächler 2012).</summary>
    static Tensor Log1MinusExp(Tensor t)
    {
        Tensor near = t.clamp_min(MinusLn2), far = t.clamp_max(MinusLn2);   // each branch on its own range
        return where(t.gt(MinusLn2), near.expm1().neg().log(), far.exp().neg().log1p());
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
