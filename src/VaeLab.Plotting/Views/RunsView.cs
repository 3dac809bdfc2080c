using System.Globalization;
using VaeLab.Experiments;

namespace VaeLab.Plotting;

/// <summary>Finished runs as one table (nats per example): the sweep report's results table and a notebook's view of a list of runs.</summary>
public static class RunsView
{
    /// <summary>One row per run, ordered by latent size, β and seed; disentanglement columns when any run has scores.</summary>
    public static ValueTable Table(IEnumerable<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        RunResult[] rows = runs.OrderBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed).ToArray();
        bool scores = rows.Any(r => r.Disentanglement is not null);
        string[] columns = ["run", "latent", "β", "seed", "epochs", "likelihood", "posterior", "test ELBO ± SE over examples", "E_q[log p(x|z)]", "KL (rate)", "log p(x) ± Monte Carlo SE", "bits/dim", "figures are", "active units"];
        if (scores) columns = [.. columns, "MIG", "FactorVAE", "β-VAE"];
        var table = new ValueTable($"{rows.Length} run{(rows.Length == 1 ? "" : "s")} (nats per example)", [.. columns, "training step", "wall s"]);
        static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
        static string F3(double? v) => v is double value ? value.ToString("F3", CultureInfo.InvariantCulture) : "–";
        foreach (RunResult r in rows)
        {
            string[] disentanglement = scores ? [F3(r.Disentanglement?.Mig), F3(r.Disentanglement?.FactorVaeScore), F3(r.Disentanglement?.BetaVaeScore)] : [];
            table.Add([
                r.RunId, r.Config.LatentDimensions.ToString(CultureInfo.InvariantCulture), r.Config.Beta.ToString("G4", CultureInfo.InvariantCulture),
                r.Config.Seed.ToString(CultureInfo.InvariantCulture), r.Config.Epochs.ToString(CultureInfo.InvariantCulture), r.Config.Likelihood.ToString(), r.Config.PosteriorInUse.ToString(),
                $"{F(r.TestElboNats)} ± {F(r.TestElboStandardError)}", F(r.ReconstructionLogLikelihoodNats), F(r.KlNats),
                double.IsFinite(r.LogLikelihoodStandardError) ? $"{F(r.LogLikelihoodNats)} ± {F(r.LogLikelihoodStandardError)}" : F(r.LogLikelihoodNats),
                r.BitsPerDimension.ToString("F3", CultureInfo.InvariantCulture), r.Treatment?.Label ?? "–",
                $"{r.ActiveUnits} / {r.Config.LatentDimensions}", .. disentanglement,
                r.Strategy is { } strategy ? $"{strategy.Parallelism}, {strategy.Threads} thread{(strategy.Threads == 1 ? "" : "s")}" : "–",
                r.WallSeconds.ToString("F1", CultureInfo.InvariantCulture)]);
        }
        return table;
    }
}
