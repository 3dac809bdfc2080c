using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;
using VaeLab.IO;

namespace VaeLab.Experiments;

/// <summary>
/// A sweep's results as a Microsoft.Data.Analysis <see cref="DataFrame"/> (one row per run, explicit column
/// types) for grouping and display in notebooks, and as CSV written with the invariant culture in UTF-8. The
/// disentanglement scores (mig, factorvae_score, betavae_score) are NaN for runs on data without a factor grid.
/// bits_per_dim is −log₂ p(x) per dimension (from log p(x), else the ELBO); figures_are says what the log-likelihoods are
/// (a bound on log P(8-bit image), a probability, or a grey-level cross-entropy). The inference-gap columns (log_px_ais_nats,
/// log_px_ais_se, elbo_local_nats, approximation_gap_nats, amortisation_gap_nats; nats per example over the run's first
/// gap examples) are NaN for runs swept without --gap.
/// </summary>
public static class ResultsTable
{
    /// <summary>The column names, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "run_id", "latent", "beta", "seed", "epochs", "likelihood", "architecture", "posterior", "prior",
        "test_elbo_nats", "test_elbo_se", "reconstruction_loglik_nats", "kl_nats", "distortion_nats",
        "log_px_nats", "log_px_se", "bits_per_dim", "figures_are", "active_units", "mig", "factorvae_score", "betavae_score",
        "log_px_ais_nats", "log_px_ais_se", "elbo_local_nats", "approximation_gap_nats", "amortisation_gap_nats",
        "parallelism", "threads", "wall_seconds",
    ];

    /// <summary>The runs as a DataFrame, ordered by latent size, β and seed.</summary>
    public static DataFrame ToDataFrame(IEnumerable<RunResult> runs)
    {
        RunResult[] rows = runs.OrderBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed).ToArray();
        DoubleDataFrameColumn Double(string name, Func<RunResult, double> value) => new(name, rows.Select(value));
        return new DataFrame(
            new StringDataFrameColumn("run_id", rows.Select(r => r.RunId)),
            new Int32DataFrameColumn("latent", rows.Select(r => r.Config.LatentDimensions)),
            Double("beta", r => r.Config.Beta),
            new Int64DataFrameColumn("seed", rows.Select(r => r.Config.Seed)),
            new Int32DataFrameColumn("epochs", rows.Select(r => r.Config.Epochs)),
            new StringDataFrameColumn("likelihood", rows.Select(r => r.Config.Likelihood.ToString())),
            new StringDataFrameColumn("architecture", rows.Select(r => r.Config.Architecture.ToString())),
            new StringDataFrameColumn("posterior", rows.Select(r => r.Config.PosteriorInUse.ToString())),
            new StringDataFrameColumn("prior", rows.Select(r => r.Config.PriorInUse.ToString())),
            Double("test_elbo_nats", r => r.TestElboNats),
            Double("test_elbo_se", r => r.TestElboStandardError),
            Double("reconstruction_loglik_nats", r => r.ReconstructionLogLikelihoodNats),
            Double("kl_nats", r => r.KlNats),
            Double("distortion_nats", r => r.DistortionNats),
            Double("log_px_nats", r => r.LogLikelihoodNats),
            Double("log_px_se", r => r.LogLikelihoodStandardError),
            Double("bits_per_dim", r => r.BitsPerDimension),
            new StringDataFrameColumn("figures_are", rows.Select(r => r.Treatment?.Label ?? "")),
            new Int32DataFrameColumn("active_units", rows.Select(r => r.ActiveUnits)),
            Double("mig", r => r.Disentanglement?.Mig ?? double.NaN),
            Double("factorvae_score", r => r.Disentanglement?.FactorVaeScore ?? double.NaN),
            Double("betavae_score", r => r.Disentanglement?.BetaVaeScore ?? double.NaN),
            Double("log_px_ais_nats", r => r.Gap?.LogLikelihoodAis.Nats ?? double.NaN),
            Double("log_px_ais_se", r => r.Gap?.LogLikelihoodAis.StandardError ?? double.NaN),
            Double("elbo_local_nats", r => r.Gap?.ElboLocal.Nats ?? double.NaN),
            Double("approximation_gap_nats", r => r.Gap?.ApproximationGap.Nats ?? double.NaN),
            Double("amortisation_gap_nats", r => r.Gap?.AmortisationGap.Nats ?? double.NaN),
            new StringDataFrameColumn("parallelism", rows.Select(r => r.Strategy?.Parallelism.ToString() ?? "")),
            new Int32DataFrameColumn("threads", rows.Select(r => r.Strategy?.Threads ?? 0)),
            Double("wall_seconds", r => r.WallSeconds));
    }

    /// <summary>The column types of <see cref="ToDataFrame"/>, for reading the CSV back with <c>DataFrame.LoadCsv</c>.</summary>
    public static Type[] ColumnTypes { get; } =
        [typeof(string), typeof(int), typeof(double), typeof(long), typeof(int), typeof(string), typeof(string), typeof(string), typeof(string),
         typeof(double), typeof(double), typeof(double), typeof(double), typeof(double), typeof(double), typeof(double),
         typeof(double), typeof(string), typeof(int), typeof(double), typeof(double), typeof(double),
         typeof(double), typeof(double), typeof(double), typeof(double), typeof(double),
         typeof(string), typeof(int), typeof(double)];

    /// <summary>Writes the frame as CSV (invariant culture, UTF-8, header line) atomically.</summary>
    public static void WriteCsv(DataFrame frame, string path) =>
        AtomicFile.Write(path, stream => DataFrame.SaveCsv(frame, stream, ',', header: true, encoding: new UTF8Encoding(false), cultureInfo: CultureInfo.InvariantCulture));

    /// <summary>
    /// Reads a CSV written by <see cref="WriteCsv"/> with explicit column types (no guessing from the first rows), matching
    /// columns by the names in its header line: a table written with fewer columns (before one was added) reads as it was.
    /// </summary>
    public static DataFrame ReadCsv(string path)
    {
        string header;
        using (var reader = new StreamReader(path, Encoding.UTF8)) header = reader.ReadLine() ?? throw new FormatException($"'{path}' is empty: no header line.");
        string[] names = header.Split(',');
        Type[] types = names.Select(name => Columns.ToList().IndexOf(name) is int i and >= 0 ? ColumnTypes[i] : typeof(string)).ToArray();
        return DataFrame.LoadCsv(path, ',', header: true, columnNames: names, dataTypes: types, encoding: Encoding.UTF8, cultureInfo: CultureInfo.InvariantCulture);
    }
}
