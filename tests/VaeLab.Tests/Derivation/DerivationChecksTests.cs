using VaeLab.Derivation;
using VaeLab.Objectives;

namespace VaeLab.Tests.Derivation;

/// <summary>Every check passes with VaeLab's formulas and fails with a deliberately wrong one.</summary>
public class DerivationChecksTests
{
    static readonly DerivationFormulas Right = DerivationFormulas.Library;

    static readonly DerivationFormulas KlWithWrongSign = Right with { Kl = (m, lv) => GaussianKl.ToStandardNormal(m, lv).neg() };

    static readonly DerivationFormulas CostWithoutHalfLog2Pi = Right with
    {
        GaussianNegativeLogLikelihood = (x, mean, logSigma) => (x - mean).square().mul(logSigma.mul(-2).exp()).mul(0.5).add(logSigma).sum(1),
    };

    static readonly DerivationFormulas SampleWithVarianceForSigma = Right with { Reparameterize = (m, lv, e) => m + lv.exp() * e };

    static void AllPass(IReadOnlyList<DerivationRow> rows)
    {
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.True(r.Pass, $"{r.Check}: {r.Step}: {r.Left} vs {r.Right}, |diff| {r.Difference} > {r.Tolerance}"));
    }

    static void SomeFail(IReadOnlyList<DerivationRow> rows, string stepContains)
    {
        Assert.Contains(rows, r => !r.Pass && r.Step.Contains(stepContains, StringComparison.Ordinal));
    }

    [Fact]
    public void LinearGaussianIdentityHoldsToRoundOff()
    {
        var rows = LinearGaussianCheck.Run(Right);
        AllPass(rows);
        Assert.True(rows[0].Difference < 1e-8);
    }

    [Fact]
    public void LinearGaussianCheckCatchesAWrongKlSignADroppedConstantAndAWrongSample()
    {
        SomeFail(LinearGaussianCheck.Run(KlWithWrongSign), "log p(x) − ELBO(q) = KL");
        SomeFail(LinearGaussianCheck.Run(CostWithoutHalfLog2Pi), "log p(x) − ELBO(q) = KL");
        SomeFail(LinearGaussianCheck.Run(SampleWithVarianceForSigma), "closed form = Monte Carlo");
    }

    [Fact]
    public void QuadratureCheckPassesAndCatchesAWrongKlSign()
    {
        AllPass(QuadratureCheck.Run(Right));
        SomeFail(QuadratureCheck.Run(KlWithWrongSign), "log p(x) = ELBO + KL");
    }

    [Fact]
    public void ImportanceSamplingBracketsLogPxAndCatchesWrongFormulas()
    {
        AllPass(ImportanceSamplingCheck.Run(Right));
        SomeFail(ImportanceSamplingCheck.Run(KlWithWrongSign, ks: [1, 100]), "ELBO ≤ IWAE");
        SomeFail(ImportanceSamplingCheck.Run(SampleWithVarianceForSigma, ks: [1, 100]), "IWAE_100 = log p(x)");
    }

    [Fact]
    public void CostTermsPassAndCatchAWrongKlSignAndADroppedConstant()
    {
        AllPass(CostTermsCheck.Run(Right));
        SomeFail(CostTermsCheck.Run(KlWithWrongSign), "analytic");
        SomeFail(CostTermsCheck.Run(CostWithoutHalfLog2Pi), "Normal");
    }

    [Fact]
    public void ReparameterisationPassesAndCatchesAWrongSample()
    {
        AllPass(ReparameterisationCheck.Run(Right));
        var rows = ReparameterisationCheck.Run(SampleWithVarianceForSigma);
        SomeFail(rows, "variance of μ + σ·ε");
        SomeFail(rows, "exact ∇");
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
    public void TheReportRendersCsvAndHtmlWithEveryRow()
    {
        var rows = CostTermsCheck.Run(Right);
        var report = new DerivationReport(rows, TimeSpan.FromSeconds(1));
        string[] lines = report.ToCsv().TrimEnd().Split('\n');
        Assert.Equal(rows.Count + 1, lines.Length);
        Assert.StartsWith("check,step,left,right", lines[0]);
        Assert.Contains(",\"100,000 draws; tolerance 4 standard errors\",", report.ToCsv()); // a comma inside a field: quoted
        string html = report.ToHtml();
        Assert.Equal(rows.Count, html.Split("<tr class=\"pass\">").Length - 1);
        Assert.DoesNotContain("<script", html);
        Assert.True(report.AllPass);
    }
}

public class DerivationSuiteTests
{
    [Fact]
    public void TheSuiteRunsEveryCheckAndAllPassWellUnderAMinute()
    {
        var names = new List<string>();
        DerivationReport report = DerivationSuite.Run(progress: new Collect(names));
        Assert.True(report.AllPass, string.Join("\n", report.Failures.Select(f => $"{f.Check}: {f.Step}")));
        Assert.Equal(5, report.Rows.Select(r => r.Check).Distinct().Count());
        Assert.Equal(5, names.Count);
        Assert.True(report.Duration < TimeSpan.FromMinutes(1), $"took {report.Duration}");
    }

    sealed class Collect(List<string> names) : IProgress<string>
    {
        public void Report(string value) => names.Add(value);
    }
}
