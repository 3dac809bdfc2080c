using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using VaeLab.Derivation;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Evaluation.Inference;
using VaeLab.Experiments;
using VaeLab.Plotting;
using VaeLab.Runtime;
using VaeLab.Training;

namespace VaeLab.Interactive;

/// <summary>
/// The text/html and text/plain formatters for what a researcher looks at in VaeLab. Every HTML view is also handed to
/// the session's report, so the notebook's last cell can write it without building anything again.
/// </summary>
static class VaeLabFormatters
{
    const string Html = HtmlFormatter.MimeType, Plain = PlainTextFormatter.MimeType;

    public static void Register()
    {
        Add<GenericChart>(ChartFragment, _ => "Plotly chart (shown as text/html)", chart: true);
        Add<ImageMosaic>(m => ChartFragment(ImageCharts.Mosaic(m)), m => $"image mosaic {m.Rows} × {m.Columns}: {m.Caption}", chart: true);
        Add<TrainingCurve>(c => ChartFragment(ExperimentCharts.TrainingCurves([c])), c => $"{c.Name}: {c.TrainElboByEpoch.Length} epochs", chart: true);
        Add<IEnumerable<EpochMetrics>>(h => HistoryHtml(h.ToArray()), h => HistoryTable(h.ToArray()).ToText(), chart: true);
        // The session's table carries plotly.js, so a rerun notebook's first output makes every later chart draw.
        Add<NotebookSession>(s => SessionTable(s).ToHtml(), s => SessionTable(s).ToText(), chart: true);
        AddTable<ElboSummary>(EvaluationViews.Elbo);
        AddTable<LogLikelihoodEstimate>(EvaluationViews.LogLikelihood);
        AddTable<GapDecomposition>(EvaluationViews.Gap);
        AddTable<RuntimeInfo>(EvaluationViews.Runtime);
        AddTable<SweepSpec>(SweepSpecView.Table);
        AddTable<RunResult>(r => RunsView.Table([r]));
        AddTable<IEnumerable<RunResult>>(RunsView.Table);
        Add<DerivationRow>(r => DerivationViews.Html([r]), r => DerivationViews.Text([r]));
        Add<IEnumerable<DerivationRow>>(r => DerivationViews.Html(r.ToArray()), r => DerivationViews.Text(r.ToArray()));
        Add<DerivationReport>(r => DerivationViews.Html(r.Rows), r => DerivationViews.Text(r.Rows));
        AddTable<ValueTable>(t => t);
        AddTable<DisentanglementScores>(ScoresTable);
        Add<SectionHeading>(h => "<h2>" + WebUtility.HtmlEncode(h.Title) + "</h2>", h => h.Title, collect: false);
        Add<WrittenReport>(w => $"<p>Report written: <a href=\"{WebUtility.HtmlEncode(new Uri(w.Path).AbsoluteUri)}\">{WebUtility.HtmlEncode(w.Path)}</a> ({w.Sections} sections, {w.Items} charts and tables, {w.Bytes / 1024.0 / 1024.0:F1} MB, opens offline)</p>",
            w => $"Report written: {w.Path} ({w.Sections} sections, {w.Items} charts and tables, {w.Bytes / 1024.0 / 1024.0:F1} MB, opens offline)", collect: false);
        Add<LiveView>(v => v.Html(), v => v.Text(), collect: false);
    }

    /// <summary>A value shown as its <see cref="ValueTable"/> in both media.</summary>
    static void AddTable<T>(Func<T, ValueTable> view) where T : notnull => Add<T>(v => view(v).ToHtml(), v => view(v).ToText());

    /// <summary>
    /// Registers both media for <typeparamref name="T"/>; the HTML goes to the report when <paramref name="collect"/>, and
    /// carries plotly.js the first time when <paramref name="chart"/>.
    /// </summary>
    static void Add<T>(Func<T, string> html, Func<T, string> plain, bool collect = true, bool chart = false) where T : notnull
    {
        Formatter.Register<T>((value, writer) =>
        {
            string fragment = html(value);
            if (collect) SessionReport.Collect(value, fragment);
            writer.Write(chart ? PlotlyOnce() + fragment : fragment);
        }, Html);
        Formatter.Register<T>((value, writer) => writer.Write(plain(value)), Plain);
        Formatter.SetPreferredMimeTypesFor(typeof(T), Html, Plain);
    }

    /// <summary>
    /// plotly.js itself, the first time a chart is shown after <see cref="Notebook.Prepare"/> (whose output carries it): no
    /// CDN, so notebooks work offline; kept once per session so a saved notebook stays small.
    /// </summary>
    static string PlotlyOnce() => NotebookSupport.PlotlyScriptOnce();

    static string ChartFragment(GenericChart chart) => GenericChart.toChartHTML(chart);

    static string HistoryHtml(EpochMetrics[] history) =>
        ChartFragment(ExperimentCharts.TrainingCurves([TrainingCurve.FromHistory("ELBO", history)])) + HistoryTable(history).ToHtml();

    static ValueTable HistoryTable(EpochMetrics[] history)
    {
        static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
        var table = new ValueTable($"Training history: {history.Length} epochs (nats per example)", "epoch", "train ELBO", "train KL", "test ELBO", "test KL", "β", "examples/s");
        foreach (EpochMetrics m in history)
            table.Add(m.Epoch.ToString(CultureInfo.InvariantCulture), F(m.TrainElboNats), F(m.TrainKlNats), F(m.ValidationElboNats), F(m.ValidationKlNats),
                m.Beta.ToString("G3", CultureInfo.InvariantCulture), m.ExamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
        return table;
    }

    static ValueTable SessionTable(NotebookSession session)
    {
        ValueTable runtime = EvaluationViews.Runtime(session.Runtime);
        var table = new ValueTable("VaeLab notebook session", "fact", "value");
        foreach (string[] row in runtime.Rows) table.Add(row);
        table.Add("VaeLab build", session.BuildNote is null ? session.Build : $"{session.Build} — WARNING: {session.BuildNote}");
        int copies = AppDomain.CurrentDomain.GetAssemblies().Count(a => a.GetName().Name == "FSharp.Core");
        table.Add("FSharp.Core", $"{NotebookSupport.UseHostFSharpCore()?.ToString() ?? "not loaded"} (the kernel's; {copies} cop{(copies == 1 ? "y" : "ies")} loaded)");
        return table.Add("seed", session.Seed.ToString(CultureInfo.InvariantCulture))
                    .Add("quick mode (VAELAB_QUICK=1)", session.Quick ? "yes: small data, few epochs" : "no");
    }

    static ValueTable ScoresTable(DisentanglementScores s) =>
        new ValueTable("Disentanglement scores", "score", "value")
            .Add("MIG", s.Mig.ToString("F3", CultureInfo.InvariantCulture))
            .Add("FactorVAE score", s.FactorVaeScore.ToString("F3", CultureInfo.InvariantCulture))
            .Add("β-VAE score", s.BetaVaeScore.ToString("F3", CultureInfo.InvariantCulture))
            .Add("latents that vary (std ≥ 0.05)", s.ActiveDimensions.ToString(CultureInfo.InvariantCulture));
}
