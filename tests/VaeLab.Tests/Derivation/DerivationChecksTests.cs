using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Derivation;
using VaeLab.Models;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Derivation;

/// <summary>
/// Each check fails when a wrong step is planted where the library computes: a likelihood, an encoder or a decoder
/// wrapped around the real one (<see cref="PlantedFaults"/>). That every check passes on the library as it is, the
/// suite test asserts; wrong versions of the static formulas are planted in the source by environment/plant-wrong-formulas.sh.
/// </summary>
public class DerivationChecksTests
{
    static readonly CheckedComponents DroppedConstant = new(Likelihood: l => new PlantedFaults.DroppedHalfLog2Pi(l));
    static readonly CheckedComponents LogSigmaEncoder = new(Encoder: e => new PlantedFaults.LogSigmaForLogVariance(e));
    static readonly CheckedComponents ScaledDecoder = new(Decoder: d => new PlantedFaults.SlightlyScaled(d));
    static readonly CheckedComponents CoupledDecoder = new(Decoder: d => new PlantedFaults.BatchCoupled(d));

    static void Fails(IReadOnlyList<DerivationRow> rows, string stepContains)
    {
        Assert.Contains(rows, r => r.Step.Contains(stepContains, StringComparison.Ordinal));
        Assert.True(rows.Any(r => !r.Pass && r.Step.Contains(stepContains, StringComparison.Ordinal)),
            $"no failing row \"{stepContains}\" among:\n{string.Join("\n", rows.Select(r => $"{(r.Pass ? "pass" : "FAIL")} {r.Step}"))}");
    }

    [Fact]
    public void ADroppedHalfLog2PiInTheLikelihoodFailsTheRowsThatUseIt()
    {
        var exact = LinearGaussianCheck.Run(DroppedConstant);
        Fails(exact, "log p(x|z) of the VAE's decoder and likelihood");
        Fails(exact, "Elbo.Estimate, one z per example");
        Fails(exact, "Elbo.Estimate(samples: 50)");
        var sampling = ImportanceSamplingCheck.Run(DroppedConstant, ks: [1, 100]);
        Fails(sampling, "every importance weight");
        Fails(sampling, "IWAE_100 ≤ log p(x)");
        var costs = CostTermsCheck.Run(DroppedConstant, samples: 10_000);
        foreach (string variant in new[] { "fixed σ = 0.7", "one learned σ", "learned σ per pixel", "σ output by the decoder" })
        {
            Fails(costs, $"{variant}: −log p(x|z) = Σ ½ log(2πσ²)");
            Fails(costs, $"{variant}: ∫ p(x|z) dx = 1");
        }
        Fails(costs, "Bernoulli (logits): Σ over x");
        var pixels = DiscretizationCheck.Run(DroppedConstant);
        foreach (string family in new[] { "gaussian", "logistic" })
        {
            Fails(pixels, $"discretised {family}: Σ over the 256 levels");
            Fails(pixels, $"discretised {family}: log P(k) = log[F((k + 1)/256) − F(k/256)]");
        }
    }

    [Fact]
    public void ADroppedConstantMovesEveryEstimateOfLogPxThatCheckSevenComparesWithTheTruth()
    {
        var gap = InferenceGapCheck.Run(DroppedConstant);
        Fails(gap, "AIS log p(x) = exact log p(x)");
        Fails(gap, "8-bit data: Decompose's log p̂");
        Fails(gap, "InferenceGap.Decompose: log p̂(x) = exact log p(x)");
        Fails(gap, "LocalPosterior.Score(q) = closed-form ELBO(q)");
        // The gaps, and the BDMC bracket, are differences of two estimates under the same likelihood: a constant cancels in them.
        Assert.Contains(gap, r => r.Pass && r.Step.StartsWith("InferenceGap.Decompose: amortisation gap", StringComparison.Ordinal));
        Assert.Contains(gap, r => r.Pass && r.Step.StartsWith("BDMC bracket", StringComparison.Ordinal));
    }

    [Fact]
    public void ADroppedConstantMovesEveryReportedFigureThatCheckEightComparesWithTheTruth()
    {
        var rows = ReportedFiguresCheck.Run(DroppedConstant);
        foreach (string path in new[] { "raw data", "8-bit data, dequantised" })
        {
            Fails(rows, $"{path}: the evaluator's importance-sampled log p(x), each example and the mean");
            Fails(rows, $"{path}: the test ELBO at q = p(z|x) = exact log p(x)");
            Fails(rows, $"{path}: AIS over the data set");
        }
        foreach (string path in new[] { "binarised data, Bernoulli", "8-bit data, discretised Gaussian" })
        {
            Fails(rows, $"{path}: the test ELBO = Gauss–Hermite");
            Fails(rows, $"{path}: the evaluator's importance-sampled log p(x) = log p(x) on a grid");
            Fails(rows, $"{path}: AIS over the data set");
        }
        // Conversions and standard errors are arithmetic on the estimates: a likelihood's constant leaves them true.
        Assert.Contains(rows, r => r.Pass && r.Step.StartsWith("raw data: −ELBO in bits per dimension", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Pass && r.Step.StartsWith("raw data: the importance-sampled estimate's Monte Carlo standard error is 0", StringComparison.Ordinal));
    }

    [Fact]
    public void ADroppedConstantFailsCheckNinesClosedFormsButNotItsArithmetic()
    {
        var rows = EstimatorInternalsCheck.Run(DroppedConstant);
        Fails(rows, "AIS with one distribution: each example's estimate");
        Fails(rows, "BidirectionalMonteCarlo.Run: forward AIS ≤ exact log p(x)");
        Fails(rows, "8-bit data: L[q*] = exact log p(x̃)");
        Assert.Contains(rows, r => r.Pass && r.Step.StartsWith("InferenceGap.Decompose: each of its 8 figures", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Pass && r.Step.StartsWith("LogMeanExp.Of", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEncoderGivingLogSigmaForLogVarianceBreaksTheTightBound()
    {
        Fails(LinearGaussianCheck.Run(LogSigmaEncoder), "ELBO(q) = log p(x) when the encoder gives q = p(z|x)");
        var sampling = ImportanceSamplingCheck.Run(LogSigmaEncoder, ks: [1, 100]);
        Fails(sampling, "every importance weight");
        Fails(sampling, "the evaluator's log p(x) (k = 1000, in chunks of 300) is exact");
    }

    [Fact]
    public void ADecoderOffByOnePartInAThousandFailsTheExactLikelihoodRow()
    {
        var rows = LinearGaussianCheck.Run(ScaledDecoder);
        Fails(rows, "log p(x|z) of the VAE's decoder and likelihood");
    }

    [Fact]
    public void ABatchCoupledDecoderBreaksTheQuadratureIdentity()
    {
        using var scope = NewDisposeScope();
        VariationalAutoencoder model = QuadratureCheck.TrainPinwheelVae(epochs: 10);
        using Dataset test = Pinwheel.Generate(8, 102);
        var rows = QuadratureCheck.Run(CoupledDecoder, model, test.Examples, monteCarloSamples: 50_000);
        Fails(rows, "log p(x) = ELBO + KL(q ‖ p(z|x))");
        Fails(rows, "Elbo.Estimate = Gauss–Hermite");
        Assert.All(QuadratureCheck.Run(model: model, x: test.Examples, monteCarloSamples: 50_000), r => Assert.True(r.Pass, r.Step));
    }

    [Fact]
    public void GaussHermiteIntegratesPolynomialsExactly()
    {
        var (nodes, weights) = GaussHermite.Rule(10);
        // ∫ e^(−t²) t^4 dt = 3√π/4.
        Assert.Equal(3 * Math.Sqrt(Math.PI) / 4, nodes.Zip(weights, (t, w) => w * Math.Pow(t, 4)).Sum(), 12);
        Assert.Equal(Math.Sqrt(Math.PI), weights.Sum(), 12);
    }

    [Fact]
    public void TheReferenceKlsAgreeWithEachOtherAndWithAOneDimensionalHandComputation()
    {
        using var scope = NewDisposeScope();
        Tensor mean = tensor(new[] { 0.3, -1.2 }).view(1, 2), variance = tensor(new[] { 0.5, 2.0 }).view(1, 2);
        double dense = ReferenceGaussian.KlToStandardNormal(mean, variance).item<double>();
        double quadrature = ReferenceGaussian.KlPerDimensionByQuadrature(mean, variance).sum().item<double>();
        double byHand = 0.5 * (0.5 + 0.09 - 1 - Math.Log(0.5)) + 0.5 * (2.0 + 1.44 - 1 - Math.Log(2.0));
        Assert.Equal(byHand, dense, 12);
        Assert.Equal(byHand, quadrature, 12);
    }

    [Fact]
    public void TheReportRendersCsvAndHtmlWithEveryRow()
    {
        var rows = CostTermsCheck.Run(samples: 10_000);
        var report = new DerivationReport(rows, TimeSpan.FromSeconds(1));
        string[] lines = report.ToCsv().TrimEnd().Split('\n');
        Assert.Equal(rows.Count + 1, lines.Length);
        Assert.StartsWith("row,check,step,left,right", lines[0]);
        Assert.Contains(",\"10,000 draws of VariationalAutoencoder.Reparameterize;", report.ToCsv()); // a comma inside a field: quoted
        string html = report.ToHtml();
        Assert.Equal(rows.Count, html.Split("<tr class=\"pass\">").Length - 1);
        Assert.DoesNotContain("<script", html);
        Assert.True(report.AllPass);
    }
}

public class DerivationSuiteTests
{
    // One case per check, so that mutation testing runs only the checks that cover a mutant (the report test runs them all at once).
    [Theory]
    [InlineData(1, LinearGaussianCheck.Name)]
    [InlineData(2, QuadratureCheck.Name)]
    [InlineData(3, ImportanceSamplingCheck.Name)]
    [InlineData(4, CostTermsCheck.Name)]
    [InlineData(5, ReparameterisationCheck.Name)]
    [InlineData(6, DiscretizationCheck.Name)]
    [InlineData(7, InferenceGapCheck.Name)]
    [InlineData(8, ReportedFiguresCheck.Name)]
    [InlineData(9, EstimatorInternalsCheck.Name)]
    [InlineData(10, PosteriorFamiliesCheck.Name)]
    [InlineData(11, PriorsCheck.Name)]
    [InlineData(12, ObjectivesCheck.Name)]
    public void EachCheckPassesOnTheLibrary(int number, string name)
    {
        var names = new List<string>();
        DerivationReport report = DerivationSuite.Run(progress: new Collect(names), only: [number]);
        Assert.True(report.AllPass, string.Join("\n", report.Failures.Select(f => $"{f.Check}: {f.Step}: {f.Left} vs {f.Right}, |diff| {f.Difference} > {f.Tolerance}")));
        Assert.Equal([name], report.Rows.Select(r => r.Check).Distinct());
        Assert.Equal([name], names);
        Assert.Equal(12, DerivationSuite.CheckCount);
        // Every row has the id of its place in its check: number.1, number.2, … in the order the check lists them.
        Assert.Equal(Enumerable.Range(1, report.Rows.Count).Select(i => $"{number}.{i}"), report.Rows.Select(r => r.Id));
        Assert.Equal(name, DerivationChecks.All[number - 1].Name);
        Assert.Equal(number, DerivationChecks.All[number - 1].Number);
    }

    [Fact]
    public void OnlyTheChosenChecksRunAndABadNumberIsRefused()
    {
        DerivationReport report = DerivationSuite.Run(only: [5]);
        Assert.Equal([ReparameterisationCheck.Name], report.Rows.Select(r => r.Check).Distinct());
        Assert.Null(report.Figures);
        Assert.True(report.AllPass);
        Assert.Throws<ArgumentOutOfRangeException>(() => DerivationSuite.Run(only: [13]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DerivationSuite.Run(only: [0]));

        // A row by its id: its check runs, that row alone is kept, and it is the row the whole check lists at that place.
        DerivationReport rows = DerivationSuite.Run(null, null, ["5.3", "5.1"]);
        Assert.Equal(["5.1", "5.3"], rows.Rows.Select(r => r.Id));
        Assert.Equal(report.Row("5.3").Step, rows.Row("5.3").Step);
        Assert.Equal(report.Row("5.3").Left, rows.Row("5.3").Left);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => DerivationSuite.Run(null, null, ["5.99"]));
        Assert.Contains($"rows 5.1 to 5.{report.Rows.Count}", missing.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DerivationSuite.Run(null, null, ["five"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DerivationSuite.Run(null, null, ["5.0"]));
        Assert.Throws<KeyNotFoundException>(() => report.Row("6.1"));
    }

    sealed class Collect(List<string> names) : IProgress<string>
    {
        public void Report(string value) => names.Add(value);
    }
}
