using System.Diagnostics;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Runs the checks of <see cref="DerivationChecks.All"/> and numbers their rows ("5.3"): the ten checks of the ELBO derivation
/// and of the figures built on it, on the library's own code, in float64, as one table:
/// (1) exact on the linear-Gaussian VAE, (2) by quadrature on a trained 2-D latent VAE, (3) importance sampling and
/// the evaluator, (4) the cost terms and every likelihood, (5) the reparameterisation step, (6) the likelihoods of 8-bit
/// pixels (discretised masses, the dequantised bound), (7) the inference-gap tools (AIS, BDMC, the per-example q*), (8) every
/// figure the evaluator reports on every data path against exact answers, (9) the estimators' insides (chains, standard errors,
/// BDMC's data, the gap's arithmetic), (10) the posterior families (flow log-determinants, IAF's order, densities and KLs), (11) the priors (normalised densities, samplers, the
/// mixture's and the VampPrior's log p(z), the KL to each), (12) the IWAE family of objectives (MIWAE, CIWAE against the ELBO, IWAE and
/// their definitions).
/// </summary>
public static class DerivationSuite
{
    /// <summary>The number of checks (<see cref="DerivationChecks.Count"/>).</summary>
    public static int CheckCount => DerivationChecks.Count;

    /// <summary>
    /// Runs every check (or those numbered in <paramref name="only"/>) on <paramref name="components"/> (the library's by default);
    /// <paramref name="progress"/> hears each check's name. The derivation figures come with a full run only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A check number outside 1 … 9.</exception>
    public static DerivationReport Run(CheckedComponents? components = null, IProgress<string>? progress = null, IReadOnlyCollection<int>? only = null) =>
        Run(components, progress, only?.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    /// <summary>
    /// Runs the checks and rows named in <paramref name="only"/>: a check's number ("5") for all its rows, or a row's id ("5.3")
    /// for that row (its check runs, the other rows are left out). Empty or null: every check.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A check number outside 1 … 9, a row id its check does not have, or text that is neither.</exception>
    public static DerivationReport Run(CheckedComponents? components, IProgress<string>? progress, IReadOnlyCollection<string>? only)
    {
        var selection = Selection.Parse(only);
        var clock = Stopwatch.StartNew();
        var rows = new List<DerivationRow>();
        using var context = new CheckContext(components);
        // Checks 2 and 7 share a trained model: train it here, outside the checks' dispose scopes, so it outlives check 2's.
        if (selection.Runs(2) || selection.Runs(7)) context.Pinwheel();
        foreach (IDerivationCheck check in DerivationChecks.All)
        {
            if (!selection.Runs(check.Number)) continue;
            progress?.Report(check.Name);
            using var scope = NewDisposeScope();
            IReadOnlyList<DerivationRow> checkRows = check.Rows(context);
            for (int i = 0; i < checkRows.Count; i++)
            {
                DerivationRow row = checkRows[i] with { Id = $"{check.Number}.{i + 1}" };
                if (selection.Keeps(row.Id)) rows.Add(row);
            }
            selection.ThrowIfMissing(check.Number, checkRows.Count);
        }
        DerivationFigures? figures = null;
        if (context.Posterior is not null && context.Bounds is not null)
        {
            var (klAnalytic, klPoints) = KlConvergence.Run();
            figures = new DerivationFigures(klAnalytic, klPoints, context.Bounds, context.Posterior);
        }
        return new DerivationReport(rows, clock.Elapsed, figures);
    }

    // Which checks run and which of their rows are kept: whole checks by number, single rows by id.
    sealed class Selection
    {
        readonly HashSet<int> checks = new();
        readonly Dictionary<int, HashSet<int>> rows = new();

        public static Selection Parse(IReadOnlyCollection<string>? only)
        {
            var selection = new Selection();
            foreach (string item in only ?? [])
            {
                string[] parts = item.Trim().Split('.');
                if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                    || (parts.Length == 2 && (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int row) || row < 1)))
                    throw new ArgumentOutOfRangeException(nameof(only), item, $"'{item}' is neither a check number (1 to {CheckCount}) nor a row id such as 5.3.");
                if (number < 1 || number > CheckCount)
                    throw new ArgumentOutOfRangeException(nameof(only), number, $"Checks are numbered 1 to {CheckCount}.");
                if (parts.Length == 1) selection.checks.Add(number);
                else
                {
                    if (!selection.rows.TryGetValue(number, out var set)) selection.rows[number] = set = new HashSet<int>();
                    set.Add(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            return selection;
        }

        bool All => checks.Count == 0 && rows.Count == 0;

        public bool Runs(int check) => All || checks.Contains(check) || rows.ContainsKey(check);

        public bool Keeps(string id)
        {
            if (All) return true;
            string[] parts = id.Split('.');
            int check = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), row = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            return checks.Contains(check) || (rows.TryGetValue(check, out var set) && set.Contains(row));
        }

        public void ThrowIfMissing(int check, int count)
        {
            if (rows.TryGetValue(check, out var set) && set.FirstOrDefault(r => r > count) is int missing and > 0)
                throw new ArgumentOutOfRangeException("only", $"{check}.{missing}", $"Check {check} has rows {check}.1 to {check}.{count}; there is no row {check}.{missing}.");
        }
    }
}
