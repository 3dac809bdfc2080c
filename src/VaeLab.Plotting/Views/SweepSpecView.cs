using System.Globalization;
using VaeLab.Experiments;

namespace VaeLab.Plotting;

/// <summary>A sweep specification as a compact table of its settings: the grid axes first, then what every run shares; unset options left out.</summary>
public static class SweepSpecView
{
    // Thousands separated the same way in every culture the kernel may run in.
    static string N0(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>One row per setting that is set, with its value in words.</summary>
    public static ValueTable Table(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        static string List<T>(IEnumerable<T> values) => string.Join(", ", values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
        int runs = spec.Configurations().Count;
        var table = new ValueTable($"Sweep: {runs} run{(runs == 1 ? "" : "s")}", "setting", "value");
        table.Add("latent sizes", List(spec.LatentSizes))
             .Add("β", List(spec.Betas.Select(b => b.ToString("G4", CultureInfo.InvariantCulture))))
             .Add("seeds", List(spec.Seeds));
        if (spec.Likelihoods is { } likelihoods) table.Add("likelihoods", List(likelihoods));
        else table.Add("likelihood", spec.Likelihood.ToString());
        if (spec.Architectures is { } architectures) table.Add("architectures", List(architectures));
        else table.Add("architecture", spec.Architecture.ToString());
        if (spec.Posteriors is { } posteriors) table.Add("posteriors", List(posteriors));
        else table.Add("posterior", (spec.Posterior ?? VaeLab.Models.Posteriors.PosteriorSpec.Diagonal).ToString());
        if (spec.Priors is { } priors) table.Add("priors", List(priors));
        else table.Add("prior", (spec.Prior ?? VaeLab.Models.Priors.PriorSpec.Standard).ToString());
        table.Add("epochs", spec.EpochCounts is { } counts ? List(counts) : spec.Epochs.ToString(CultureInfo.InvariantCulture))
             .Add("hidden sizes", spec.HiddenSizes is { } hidden ? List(hidden) : "400 (default)")
             .Add("batch size", spec.BatchSize.ToString(CultureInfo.InvariantCulture))
             .Add("learning rate", spec.LearningRate.ToString("G4", CultureInfo.InvariantCulture))
             .Add("data", spec.DataDirectory is { } folder ? $"MNIST-format files in {folder}" : spec.Data.ToString());
        table.Add("training examples", spec.TrainExamples is int train ? $"first {N0(train)}" : "all")
             .Add("test examples", spec.TestExamples is int test ? $"first {N0(test)}" : "all")
             .Add("log p(x)", spec.ImportanceSamples > 0 ? $"importance-sampled, k = {N0(spec.ImportanceSamples)}" : "skipped");
        if (spec.GapExamples > 0)
            table.Add("inference gap", $"on the first {N0(spec.GapExamples)} test examples{(spec.QuickGap ? " (quick settings)" : "")}");
        return table;
    }
}
