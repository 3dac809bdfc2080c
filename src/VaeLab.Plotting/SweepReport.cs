using System.Globalization;
using System.Net;
using System.Text;
using VaeLab.Derivation;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Experiments;
using VaeLab.Runtime;

namespace VaeLab.Plotting;

/// <summary>
/// The shareable report of a sweep: one self-contained HTML file (plotly.js embedded) with the sweep's
/// configuration, the environment, the results table, the charts and, when given, the derivation checks.
/// </summary>
public static class SweepReport
{
    /// <summary>Builds the report page.</summary>
    /// <param name="spec">The sweep.</param>
    /// <param name="runs">Its finished runs.</param>
    /// <param name="runtime">The runtime facts for the environment section.</param>
    /// <param name="derivation">The derivation checks to include, if run.</param>
    /// <param name="store">The results store, whose saved models give the pictures (none without it).</param>
    /// <param name="test">Test data for reconstructions, interpolations and the latent scatter.</param>
    /// <param name="classNames">Names of the test data's classes.</param>
    public static HtmlPage Build(SweepSpec spec, IReadOnlyList<RunResult> runs, RuntimeInfo runtime, DerivationReport? derivation = null,
        ResultStore? store = null, VaeLab.Data.Dataset? test = null, IReadOnlyList<string>? classNames = null)
    {
        var page = new HtmlPage("VaeLab sweep report");
        page.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"{runs.Count} runs over latent sizes {string.Join(", ", spec.LatentSizes)} × β {string.Join(", ", spec.Betas)} × seeds {string.Join(", ", spec.Seeds)}. All figures are nats per example."));
        page.Heading("Configuration").Raw(SweepSpecView.Table(spec).ToHtml());
        if (runs.Count > 0) page.Paragraph("Data: " + runs[0].DataDescription);
        page.Heading("Environment").Preformatted(string.Join('\n',
            $"VaeLab versions: {(runs.Count > 0 ? runs[0].Versions : "n/a")}",
            $"TorchSharp {runtime.TorchSharpVersion}, libtorch {runtime.LibTorchVersion} ({runtime.Backend})",
            $"threads {runtime.Threads} of {runtime.LogicalProcessors} logical processors; CPU features {string.Join(" ", runtime.CpuFeatures)}",
            $"{runtime.Os}; {runtime.DotnetVersion}"));
        page.Heading("Results").Raw(RunsView.Table(runs).ToHtml());
        // Say what each kind of figure is: a bound on the probability of the 8-bit image, a probability, or a cross-entropy.
        foreach (var treatment in runs.Select(r => r.Treatment).OfType<VaeLab.Models.PixelTreatment>().DistinctBy(t => t.Label))
            page.Paragraph($"{treatment.Label}: {treatment.Meaning}.");
        if (runs.Count > 0)
        {
            page.Heading("Training curves").Chart(ExperimentCharts.TrainingCurves(runs))
                .Heading("Rate and distortion").Chart(ExperimentCharts.RateDistortion(runs))
                .Heading("Latent size").Chart(ExperimentCharts.ElboVersusLatentSize(runs));
            // Only a diagonal Gaussian's KL splits over dimensions; full-covariance and flow runs have no such chart.
            if (runs.Any(r => r.KlPerDimensionNats.Length > 0))
                page.Heading("Where the KL goes").Chart(ExperimentCharts.KlPerDimension(runs.Where(r => r.KlPerDimensionNats.Length > 0)));
            if (runs.Any(r => r.KlPerDimensionNats.Length == 0))
                page.Paragraph("Runs with a full-covariance or flow posterior have no KL per latent dimension: their KL is not a sum over dimensions.");
        }
        if (runs.Any(r => r.Disentanglement is not null))
            AddDisentanglement(page, runs, store, test);
        if (runs.Any(r => r.Gap is not null))
            AddInferenceGap(page, runs);
        if (store is not null && test is not null && runs.Count > 0)
            AddPictures(page, runs, store, test, classNames);
        if (store is not null && runs.Select(r => r.Config.Likelihood).Distinct().Count() > 1)
            AddSamplesByLikelihood(page, runs, store);
        if (derivation is not null)
        {
            page.Heading("Derivation checks").Raw(derivation.ToHtmlTable());
            if (derivation.Figures is DerivationFigures figures)
                page.Chart(DerivationCharts.KlConvergence(figures.KlAnalyticNats, figures.KlConvergence))
                    .Chart(DerivationCharts.Bounds(figures.Bounds))
                    .Chart(DerivationCharts.Posterior(figures.Posterior));
        }
        return page;
    }

    static void AddInferenceGap(HtmlPage page, IReadOnlyList<RunResult> runs)
    {
        RunResult[] rows = runs.Where(r => r.Gap is not null).OrderBy(r => r.Config.PosteriorInUse.ToString(), StringComparer.Ordinal)
            .ThenBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed).ToArray();
        var gap = rows[0].Gap!;
        page.Heading("Inference gap")
            .Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"KL(q(z|x) ‖ p(z|x)) = log p(x) − ELBO split as Cremer, Li and Duvenaud (2018): the approximation gap log p̂ − L[q*] (what the run's posterior " +
                $"family cannot express; q* fitted to each example by Adam in that family) and the amortisation gap L[q*] − L[q] (what one shared encoder loses). log p̂ is the " +
                $"tighter of AIS ({gap.Ais.Distributions} distributions × {gap.Ais.Chains} chains × {gap.Ais.LeapfrogSteps} leapfrog steps) and IS-{gap.ImportanceSamples}, " +
                $"on each run's first {gap.Examples:N0} test examples; ± standard errors over those examples."))
            .Chart(ExperimentCharts.InferenceGap(rows))
            .Raw(PlainTable(["run", "posterior", "log p̂(x)", "from", "L[q*]", "L[q]", "approximation gap", "amortisation gap"],
                rows.Select(r => new[] { r.RunId, r.Config.PosteriorInUse.ToString(), r.Gap!.LogLikelihood.ToString(), r.Gap.LogLikelihoodSource, r.Gap.ElboLocal.ToString(), r.Gap.ElboEncoder.ToString(),
                    r.Gap.ApproximationGap.ToString(), r.Gap.AmortisationGap.ToString() })));
    }

    // A table of text cells (HTML-encoded), numbers right-aligned after the first column.
    static string PlainTable(IReadOnlyList<string> columns, IEnumerable<string[]> rows)
    {
        var html = new StringBuilder("<table><thead><tr>");
        foreach (string column in columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (string[] row in rows)
        {
            html.Append("<tr>");
            for (int i = 0; i < row.Length; i++)
                html.Append(i == 0 ? "<td>" : "<td class=\"n\">").Append(WebUtility.HtmlEncode(row[i])).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    static void AddDisentanglement(HtmlPage page, IReadOnlyList<RunResult> runs, ResultStore? store, VaeLab.Data.Dataset? test)
    {
        page.Heading("Disentanglement")
            .Paragraph("MIG (Chen et al. 2018), the FactorVAE score (Kim and Mnih 2018) and the β-VAE score (Higgins et al. 2017) of the " +
                "encoder means on the shapes factor grid, computed as disentanglement_lib does (Locatello et al. 2019). All three are in [0, 1]; " +
                "chance for the two classifier scores is about 1 / 5 factors.")
            .Chart(ExperimentCharts.DisentanglementScore(runs, "MIG", s => s.Mig))
            .Chart(ExperimentCharts.DisentanglementScore(runs, "FactorVAE score", s => s.FactorVaeScore))
            .Chart(ExperimentCharts.DisentanglementScore(runs, "β-VAE score", s => s.BetaVaeScore));
        RunResult best = runs.Where(r => r.Disentanglement is not null).MaxBy(r => r.Disentanglement!.Mig)!;
        DisentanglementScores scores = best.Disentanglement!;
        var order = scores.LatentsByFactor();
        page.Heading(string.Create(CultureInfo.InvariantCulture, $"Which latent captures which factor: the run of highest MIG ({best.RunId}, latent {best.Config.LatentDimensions}, β {best.Config.Beta:G4})"))
            .Chart(ExperimentCharts.MutualInformation(scores, order.Select(o => o.Latent).ToArray()));
        if (store is null || test is null) return;
        using VaeLab.Models.VariationalAutoencoder? model = store.LoadModel(best);
        if (model is null) return;
        var rows = order.Take(10).ToArray();
        string caption = "traversals sorted by factor: " + string.Join(", ", rows.Where(o => o.Factor is not null).Select(o => $"z{o.Latent + 1} {o.Factor}"))
            + (rows.Any(o => o.Factor is null) ? "; then " + string.Join(", ", rows.Where(o => o.Factor is null).Select(o => $"z{o.Latent + 1}")) : "");
        page.Chart(ImageCharts.Mosaic(LatentFigures.Traversals(model, test, rows.Select(o => o.Latent).ToArray(), 9, caption)));
    }

    static void AddSamplesByLikelihood(HtmlPage page, IReadOnlyList<RunResult> runs, ResultStore store)
    {
        page.Heading("Samples by likelihood");
        foreach (var group in runs.GroupBy(r => r.Config.Likelihood).OrderBy(g => g.Key))
        {
            RunResult run = group.MaxBy(r => r.TestElboNats)!;
            using VaeLab.Models.VariationalAutoencoder? model = store.LoadModel(run);
            if (model is null) continue;
            ImageMosaic samples = LatentFigures.Samples(model, rows: 2);
            page.Chart(ImageCharts.Mosaic(samples with { Caption = string.Create(CultureInfo.InvariantCulture,
                $"{model.Likelihood.Description}: means of p(x|z) at z ~ N(0, I) ({run.BitsPerDimension:F3} bits/dim, {run.Treatment?.Label ?? "–"})") }));
        }
    }

    static void AddPictures(HtmlPage page, IReadOnlyList<RunResult> runs, ResultStore store, VaeLab.Data.Dataset test, IReadOnlyList<string>? classNames)
    {
        RunResult best = runs.MaxBy(r => r.TestElboNats)!;
        using (VaeLab.Models.VariationalAutoencoder? model = store.LoadModel(best))
        {
            if (model is not null)
            {
                page.Heading($"What the best run ({best.RunId}, test ELBO {best.TestElboNats.ToString("F2", CultureInfo.InvariantCulture)} nats) produces")
                    .Chart(ImageCharts.Mosaic(LatentFigures.Reconstructions(model, test)))
                    .Chart(ImageCharts.Mosaic(LatentFigures.Samples(model)))
                    .Chart(ImageCharts.Mosaic(LatentFigures.Traversals(model, test)))
                    .Chart(ImageCharts.Mosaic(LatentFigures.Interpolations(model, test)));
            }
        }
        RunResult? flat = runs.Where(r => r.Config.LatentDimensions == 2).OrderBy(r => Math.Abs(r.Config.Beta - 1)).ThenByDescending(r => r.TestElboNats).FirstOrDefault();
        if (flat is null) return;
        using VaeLab.Models.VariationalAutoencoder? twoD = store.LoadModel(flat);
        if (twoD is null) return;
        page.Heading($"The 2-D latent space ({flat.RunId})")
            .Chart(ImageCharts.LatentScatter(LatentFigures.Scatter(twoD, test), classNames))
            .Chart(ImageCharts.Mosaic(LatentFigures.Manifold(twoD)));
    }
}
