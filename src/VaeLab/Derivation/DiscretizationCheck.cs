using TorchSharp;
using VaeLab.Data;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 6, the likelihoods of 8-bit pixels on the library's classes: each <see cref="DiscretizedLikelihood"/> is a probability
/// mass over the 256 levels (it sums to 1 for any location and scale, the bounds of the learned scale included) whose bin
/// masses equal the continuous CDF's differences computed directly; and the density of uniformly dequantised pixels, with
/// the change of variables <see cref="PixelBins.LogJacobianNats"/>, is a lower bound on the discretised Gaussian's mass of
/// the same bin that becomes tight when the bin is small against σ.
/// </summary>
public sealed class DiscretizationCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 6;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run(context.Components);

    /// <summary>The check's name in the report.</summary>
    public const string Name = "6 8-bit pixels";

    const int Levels = 256;

    static readonly double[] Locations = [-0.5, 0, 0.1, 0.4987, 0.5, 1, 1.7];

    static readonly double[] Scales = [1e-3, 1.0 / Levels, 0.05, 0.3, 1, 10];

    /// <summary>Runs the check.</summary>
    /// <param name="components">The components under test (the library's by default): each likelihood passes through it.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null)
    {
        components ??= CheckedComponents.Library;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = new List<DerivationRow>();
        Tensor levels = arange(Levels, dtype: ScalarType.Float64);
        Tensor pixels = levels.div(Levels - 1).unsqueeze(1);                    // every stored value k/255 of one pixel, [256, 1]
        foreach (DiscretizedFamily family in Enum.GetValues<DiscretizedFamily>())
        {
            string label = $"discretised {family.ToString().ToLowerInvariant()}";
            // Σ_k P(k) = 1 over a grid of fixed locations and scales, and through the bounded learned scale at its extremes.
            double worst = 0, worstSum = 1;
            var logMasses = new List<(double Mean, double Scale, Tensor LogMass)>();
            foreach (double scale in Scales)
            {
                // All locations in one call of 7 × 256 rows: without gradients the likelihood works through them in blocks.
                Likelihood fixedScale = components.Apply(Float64(new DiscretizedLikelihood(family, GaussianVariance.Fixed, 1, Levels, scale)));
                Tensor stacked = fixedScale.LogProb(pixels.repeat(Locations.Length, 1),
                    tensor(Locations).repeat_interleave(Levels).unsqueeze(1)).view(Locations.Length, Levels);
                for (int i = 0; i < Locations.Length; i++)
                {
                    logMasses.Add((Locations[i], scale, stacked[i]));
                    Track(stacked[i], ref worst, ref worstSum);
                }
            }
            double[] raws = [-60.0, -4, 0, 4, 60];   // log scale from ln 0.001 (raw → −∞) to ln 10 (raw → +∞)
            Likelihood fromDecoder = components.Apply(Float64(new DiscretizedLikelihood(family, GaussianVariance.DecoderOutput, 1, Levels)));
            foreach (double raw in raws)
                foreach (double mean in Locations)
                    Track(fromDecoder.LogProb(pixels, tensor(new[] { mean, raw }).expand(Levels, 2)), ref worst, ref worstSum);
            var learned = new DiscretizedLikelihood(family, GaussianVariance.LearnedPerDimension, 1, Levels);
            Likelihood perPixel = components.Apply(Float64(learned));
            foreach (double raw in raws)
            {
                learned.parameters().Single().fill_(raw);
                foreach (double mean in Locations)
                    Track(perPixel.LogProb(pixels, full(Levels, 1, mean, dtype: ScalarType.Float64)), ref worst, ref worstSum);
            }
            rows.Add(new DerivationRow(Name, $"{label}: Σ over the 256 levels of P(k | μ, s) = 1 (worst of {Locations.Length} locations × {Scales.Length + 2 * raws.Length} scales)",
                worstSum, 1, worst, 1e-10, "Likelihood.LogProb at every level k/255, log-sum-exp; fixed scales 0.001 … 10 (all locations in one call), and the learned scale's bounds (raw log scale −60 … 60) from the decoder output and from a per-pixel parameter; |log Σ|, tolerance 1e-10",
                worst <= 1e-10));

            // Likelihood.Sample draws each level with its mass.
            {
                const int draws = 100_000;
                using var generator = new Generator(7);
                double worstScore = 0;
                foreach (double mean in new[] { 0.01, 0.4987 })
                {
                    Likelihood narrow = components.Apply(Float64(new DiscretizedLikelihood(family, GaussianVariance.Fixed, 1, Levels, 0.02)));
                    Tensor mass = narrow.LogProb(pixels, full(Levels, 1, mean, dtype: ScalarType.Float64)).exp();
                    Tensor sampled = narrow.Sample(full(draws, 1, mean, dtype: ScalarType.Float64), generator);
                    Tensor frequency = sampled.mul(Levels - 1).round().to_type(ScalarType.Int64).view(-1).bincount(null, Levels).to_type(ScalarType.Float64).div(draws);
                    Tensor seen = mass > 1e-4;
                    Tensor score = (frequency - mass).abs() / (mass * (1 - mass) / draws).sqrt();
                    worstScore = Math.Max(worstScore, score.masked_select(seen).max().item<double>());
                    // The levels of smaller mass pooled into one category.
                    double tailFrequency = frequency.masked_select(seen.logical_not()).sum().item<double>(), tailMass = mass.masked_select(seen.logical_not()).sum().item<double>();
                    worstScore = Math.Max(worstScore, Math.Abs(tailFrequency - tailMass) / Math.Sqrt(Math.Max(tailMass * (1 - tailMass), 1e-12) / draws));
                }
                rows.Add(new DerivationRow(Name, $"{label}: Likelihood.Sample draws each level with its mass (worst standard score over the levels of mass > 1e-4 and the rest pooled)",
                    worstScore, 0, worstScore, 5, $"{draws:N0} draws at μ = 0.01 and 0.4987, s = 0.02; |frequency − P(k)| in standard errors, the levels of smaller mass pooled; tolerance 5",
                    worstScore <= 5));
            }

            // Each bin's mass against the CDF difference taken directly (no log space), where that mass is representable.
            double worstMass = 0;
            foreach (var (mean, scale, logMass) in logMasses)
            {
                Tensor reference = DirectBinMass(family, mean, scale);
                Tensor valid = reference > 1e-200;
                if (!valid.any().item<bool>()) continue;
                worstMass = Math.Max(worstMass, (logMass.masked_select(valid) - reference.masked_select(valid).log()).abs().max().item<double>());
            }
            rows.Add(DerivationRow.Equal(Name, $"{label}: log P(k) = log[F((k + 1)/256) − F(k/256)], edge bins open (every bin, location and fixed scale)",
                worstMass, 0, 1e-8, $"F = {(family == DiscretizedFamily.Gaussian ? "Φ = ½ erfc(−t/√2)" : "the logistic sigmoid")}, differences in float64 where the mass exceeds 1e-200; worst |difference of logs|, tolerance 1e-8"));
            rows.Add(BlockedPathRow(family, components));
        }

        // The dequantised Gaussian density bounds the discretised Gaussian mass of the same bin: E_u[log N((k + u)/256)] − log 256 ≤ log P(k).
        // log N((k + u)/L) is quadratic in u, so two Gauss–Legendre nodes give E_u exactly.
        double node = 0.5 / Math.Sqrt(3);
        double[] nodes = [0.5 - node, 0.5 + node];
        double jacobian = PixelBins.LogJacobianNats(1, Levels);
        double violation = double.NegativeInfinity, tight = 0, tightTolerance = 0, loosest = 0;   // violation: the largest bound − log-mass
        foreach (double sigma in new[] { 1e-3, 0.01, 0.1, 0.3 })
            foreach (double mean in new[] { 0.1, 0.5, 0.77 })
            {
                Likelihood density = components.Apply(Float64(new GaussianLikelihood(GaussianVariance.Fixed, 1, sigma)));
                Likelihood mass = components.Apply(Float64(new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.Fixed, 1, Levels, sigma)));
                Tensor output = full(Levels, 1, mean, dtype: ScalarType.Float64);
                Tensor lower = PixelBins.LowerEdge(PixelBins.Level(pixels, Levels), Levels);
                Tensor bound = nodes.Select(u => density.LogProb(lower + u / Levels, output)).Aggregate((a, b) => a + b).div(nodes.Length) - jacobian;
                Tensor logMass = mass.LogProb(pixels, output);
                violation = Math.Max(violation, (bound - logMass).max().item<double>());
                loosest = Math.Max(loosest, (logMass - bound).max().item<double>());
                if (sigma < 0.1) continue;
                // Tight when the bin is small against σ: interior bins within 2σ of μ (the edge bins also hold the tails).
                Tensor centre = lower.squeeze(1) + 0.5 / Levels;                      // [256], like the log-masses
                Tensor near = (centre - mean).abs().le(2 * sigma).logical_and(levels.gt(0)).logical_and(levels.lt(Levels - 1));
                tight = Math.Max(tight, (logMass - bound).masked_select(near).abs().max().item<double>());
                // Jensen's gap log E_u[p] − E_u[log p] ≈ Var_u(log p)/2 = g²/24, g = d log p/du ≤ (2σ + 1/L)/(σ²L) on these bins: doubled.
                double slope = (2 * sigma + 1.0 / Levels) / (sigma * sigma * Levels);
                tightTolerance = Math.Max(tightTolerance, 2 * slope * slope / 24);
            }
        // The dequantiser itself: E over PixelBins.Dequantize draws of the same bound equals the quadrature value.
        {
            const int draws = 20_000;
            const double sigma = 0.1, mean = 0.5;
            using var generator = new Generator(6);
            Likelihood density = components.Apply(Float64(new GaussianLikelihood(GaussianVariance.Fixed, 1, sigma)));
            Tensor repeated = pixels.repeat(draws, 1);                                    // [draws·256, 1]
            Tensor output = full(repeated.shape[0], 1, mean, dtype: ScalarType.Float64);
            Tensor dequantized = PixelBins.Dequantize(repeated, Levels, generator);
            Tensor edges = arange(Levels, dtype: ScalarType.Float64).repeat(draws).unsqueeze(1);
            double outside = Math.Max((edges.div(Levels) - dequantized).max().item<double>(), (dequantized - (edges + 1).div(Levels)).max().item<double>());
            rows.Add(DerivationRow.AtMost(Name, "uniform dequantisation: every x̃ = (k + u)/256 lies in its level's bin [k/256, (k + 1)/256)",
                outside, 0, 0, $"{draws * Levels:N0} draws of PixelBins.Dequantize; largest distance outside the bin (0 on the lower edge is inside)"));
            Tensor sampled = (density.LogProb(dequantized, output) - jacobian).view(draws, Levels);
            Tensor lower = PixelBins.LowerEdge(PixelBins.Level(pixels, Levels), Levels);
            Tensor exact = nodes.Select(u => density.LogProb(lower + u / Levels, output.narrow(0, 0, Levels))).Aggregate((a, b) => a + b).div(nodes.Length) - jacobian;
            Tensor score = (sampled.mean([0]) - exact).abs() / (sampled.std(0) / Math.Sqrt(draws)).clamp_min(1e-300);
            double worstScore = score.max().item<double>();
            rows.Add(new DerivationRow(Name, "uniform dequantisation: the mean of log N(x̃; μ, σ²) − log 256 over draws x̃ = (k + u)/256 is the bound E_u[…] − log 256 (worst of 256 levels)",
                sampled.mean().item<double>(), exact.mean().item<double>(), worstScore, 4,
                $"{draws:N0} draws of PixelBins.Dequantize per level, σ = {sigma}, μ = {mean}; difference in standard errors, tolerance 4", worstScore <= 4));
        }
        rows.Add(DerivationRow.AtMost(Name, "dequantised bound ≤ discretised mass: E_u[log N((k + u)/256; μ, σ²)] − log 256 ≤ log P(k) (every k; σ 0.001 … 0.3)",
            violation, 0, 1e-10, $"GaussianLikelihood on PixelBins' bins with the Jacobian PixelBins.LogJacobianNats, E_u by 2-node Gauss–Legendre (exact); DiscretizedLikelihood; largest gap seen {loosest:G3} nats"));
        rows.Add(DerivationRow.Equal(Name, "the bound is tight when the bin is small against σ (σ 0.1, 0.3; interior bins within 2σ of μ)",
            tight, 0, tightTolerance, $"|log P(k) − bound|, worst; tolerance twice the second-order Jensen gap g²/24, g = (2σ + 1/L)/(σ²L): {tightTolerance:G3} nats"));
        return rows;
    }

    static Likelihood Float64(Likelihood likelihood)
    {
        likelihood.to(ScalarType.Float64);
        return likelihood;
    }

    static void Track(Tensor logMass, ref double worst, ref double worstSum)
    {
        double logSum = logMass.logsumexp(0).item<double>();
        if (!(Math.Abs(logSum) <= worst)) { worst = double.IsNaN(logSum) ? double.PositiveInfinity : Math.Abs(logSum); worstSum = Math.Exp(logSum); }
    }

    // P(k) = F(upper) − F(lower) by direct subtraction of the CDF (edge bins: F(1/256) and 1 − F(255/256)), in float64.
    static Tensor DirectBinMass(DiscretizedFamily family, double mean, double scale)
    {
        using Tensor k = arange(Levels, dtype: ScalarType.Float64), location = tensor(mean), spread = tensor(scale);
        return DirectBinMass(family, k, location, spread);
    }

    /// <summary>
    /// P(k) = F((k + 1)/256) − F(k/256) for levels <paramref name="k"/>, locations and scales (broadcast together), the edge bins
    /// open, by direct subtraction of the CDF in float64: the reference for the discretised likelihoods' log-space masses.
    /// </summary>
    internal static Tensor DirectBinMass(DiscretizedFamily family, Tensor k, Tensor mean, Tensor scale)
    {
        using var scope = NewDisposeScope();
        k = k.to_type(ScalarType.Float64);
        Tensor upper = (k + 1).div(Levels).sub(mean).div(scale), lower = k.div(Levels).sub(mean).div(scale);
        // Φ(t) = ½ erfc(−t/√2) (TorchSharp's special.ndtr returns 0 below about −9).
        Tensor Cdf(Tensor t) => family == DiscretizedFamily.Gaussian ? special.erfc(t.neg().div(Math.Sqrt(2))).mul(0.5) : t.sigmoid();
        Tensor Survival(Tensor t) => family == DiscretizedFamily.Gaussian ? special.erfc(t.div(Math.Sqrt(2))).mul(0.5) : t.neg().sigmoid();
        // Subtract on the side where both CDF values are small, to keep the difference accurate.
        Tensor interior = where(lower > 0, Survival(lower) - Survival(upper), Cdf(upper) - Cdf(lower));
        Tensor mass = where(k == 0, Cdf(upper), where(k == Levels - 1, Survival(lower), interior));
        return mass.MoveToOuterDisposeScope();
    }

    // The no-gradient path works through the rows in blocks of DiscretizedLikelihood.EvaluationRows: on 3 blocks and a remainder of
    // rows that each hold their own levels, locations and (decoder-output) scales, a block that read another block's pixels,
    // locations or scales gives other masses.
    static DerivationRow BlockedPathRow(DiscretizedFamily family, CheckedComponents components)
    {
        const int pixels = 5;
        int rows = 3 * DiscretizedLikelihood.EvaluationRows + 37;
        using var scope = NewDisposeScope();
        using var generator = new Generator(61);
        Tensor mean = rand([rows, pixels], ScalarType.Float64, generator: generator).mul(1.2).sub(0.1);
        Tensor rawLogScale = rand([rows, pixels], ScalarType.Float64, generator: generator).mul(3).sub(4);
        Tensor scale = BoundedLogScale.FromRaw(rawLogScale).exp();
        // Levels within a few scales of their location, so every mass is representable in the direct difference.
        Tensor level = mean.add(scale.mul(randn([rows, pixels], ScalarType.Float64, generator: generator))).mul(Levels).floor().clamp(0, Levels - 1);
        Likelihood likelihood = components.Apply(Float64(new DiscretizedLikelihood(family, GaussianVariance.DecoderOutput, pixels, Levels)));
        Tensor logMass = likelihood.LogProb(level.div(Levels - 1), cat([mean, rawLogScale], 1));
        Tensor reference = DirectBinMass(family, level, mean, scale).log().sum(1);
        double worst = (logMass - reference).abs().max().item<double>();
        return DerivationRow.Equal(Name, $"discretised {family.ToString().ToLowerInvariant()}: the blocked no-gradient path, {rows} rows of their own levels, locations and scales = direct CDF differences (worst row)",
            worst, 0, 1e-8, $"one LogProb call without gradients ({rows / DiscretizedLikelihood.EvaluationRows} blocks of {DiscretizedLikelihood.EvaluationRows} and {rows % DiscretizedLikelihood.EvaluationRows}; {pixels} pixels a row, scales from the decoder output) against Σ log[F((k + 1)/256) − F(k/256)] per row; tolerance 1e-8");
    }
}
