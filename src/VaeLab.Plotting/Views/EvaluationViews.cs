using System.Globalization;
using VaeLab.Derivation;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;
using VaeLab.Runtime;

namespace VaeLab.Plotting;

/// <summary>Tables of evaluation results as a reader wants them: every figure with its unit, standard error and meaning.</summary>
public static class EvaluationViews
{
    // Thousands separated the same way in every culture the kernel may run in.
    static string N0(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    static string F(double value, string format = "F2") => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "–";

    /// <summary>A test ELBO with its two terms, bits per dimension and what the figures are.</summary>
    public static ValueTable Elbo(ElboSummary elbo)
    {
        ArgumentNullException.ThrowIfNull(elbo);
        var table = new ValueTable($"ELBO on {N0(elbo.Examples)} examples (nats per example)", "quantity", "value");
        table.Add("ELBO", $"{F(elbo.ElboNats)} ± {F(elbo.ElboStandardError)}")
             .Add("E_q[log p(x|z)]", F(elbo.ReconstructionLogLikelihoodNats))
             .Add("KL(q(z|x) ‖ p(z)) (rate)", F(elbo.KlNats))
             .Add("−ELBO in bits per dimension", F(elbo.NegativeElboBitsPerDimension, "F3"));
        if (elbo.Treatment is { } treatment) table.Add("the figures are", treatment.Meaning);
        return table;
    }

    /// <summary>An importance-sampled log p(x): value, its Monte Carlo and data standard errors, k and bits per dimension.</summary>
    public static ValueTable LogLikelihood(LogLikelihoodEstimate estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        var table = new ValueTable($"log p(x), importance-sampled with k = {N0(estimate.Samples)}, on {N0(estimate.Examples)} examples (nats per example)", "quantity", "value");
        table.Add("log p(x)", $"{F(estimate.LogLikelihoodNats)} ± {F(estimate.MonteCarloStandardError, "F3")} (Monte Carlo SE)")
             .Add("spread over examples", $"± {F(estimate.DataStandardError)} (standard error of the mean over examples)")
             .Add("samples k", estimate.Samples.ToString("N0", CultureInfo.InvariantCulture))
             .Add("−log p(x) in bits per dimension", F(estimate.NegativeLogLikelihoodBitsPerDimension, "F3"));
        if (estimate.Treatment is { } treatment) table.Add("the figures are", treatment.Meaning);
        return table;
    }

    /// <summary>The inference gap decomposed: log p̂(x), L[q*], L[q] and the two gaps, each ± its standard error.</summary>
    public static ValueTable Gap(GapDecomposition gap)
    {
        ArgumentNullException.ThrowIfNull(gap);
        var table = new ValueTable($"The inference gap on {N0(gap.Examples)} examples (nats per example, ± standard error)", "quantity", "value");
        table.Add($"log p(x), IS-{N0(gap.ImportanceSamples)}", gap.LogLikelihoodImportanceSampled.ToString())
             .Add("log p(x), AIS", $"{gap.LogLikelihoodAis} (acceptance {F(gap.AisAcceptance)})")
             .Add("L[q*] (per-example optimum)", $"{gap.ElboLocal} ({F(gap.LocalSteps, "F0")} Adam steps)")
             .Add("L[q] (encoder)", gap.ElboEncoder.ToString())
             .Add("approximation gap log p̂ − L[q*]", gap.ApproximationGap.ToString())
             .Add("amortisation gap L[q*] − L[q]", gap.AmortisationGap.ToString())
             .Add($"inference gap log p̂ − L[q] (log p̂ from {gap.LogLikelihoodSource})", gap.InferenceGap.ToString())
             .Add("seconds: IS, AIS, local", $"{F(gap.Seconds.ImportanceSampling, "F1")}, {F(gap.Seconds.Ais, "F1")}, {F(gap.Seconds.Local, "F1")}");
        return table;
    }

    /// <summary>Several decompositions side by side, one column per label (a posterior family, a model): the same rows as <see cref="Gap"/>.</summary>
    /// <exception cref="ArgumentException">No decomposition given.</exception>
    public static ValueTable Gaps(IEnumerable<(string Label, GapDecomposition Gap)> gaps)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        var columns = gaps.ToArray();
        if (columns.Length == 0) throw new ArgumentException("Give at least one decomposition.", nameof(gaps));
        var table = new ValueTable($"The inference gap on {N0(columns[0].Gap.Examples)} examples (nats per example, ± standard error)",
            ["quantity", .. columns.Select(c => c.Label)]);
        void Row(string name, Func<GapDecomposition, string> cell) => table.Add([name, .. columns.Select(c => cell(c.Gap))]);
        Row($"log p(x), IS-{N0(columns[0].Gap.ImportanceSamples)}", g => g.LogLikelihoodImportanceSampled.ToString());
        Row("log p(x), AIS", g => g.LogLikelihoodAis.ToString());
        Row("L[q*] (per-example optimum)", g => g.ElboLocal.ToString());
        Row("L[q] (encoder)", g => g.ElboEncoder.ToString());
        Row("approximation gap log p̂ − L[q*]", g => g.ApproximationGap.ToString());
        Row("amortisation gap L[q*] − L[q]", g => g.AmortisationGap.ToString());
        Row("inference gap log p̂ − L[q]", g => g.InferenceGap.ToString());
        Row("amortisation share", g => F(100 * g.AmortisationGap.Nats / g.InferenceGap.Nats, "F0") + " %");
        return table;
    }

    /// <summary>The identity log p(x) = ELBO + KL(q ‖ p(z|x)) example by example, each side measured its own way (<see cref="GridIdentity"/>).</summary>
    public static ValueTable Identity(IReadOnlyList<IdentitySides> sides, string family)
    {
        ArgumentNullException.ThrowIfNull(sides);
        var table = new ValueTable($"log p(x) = ELBO + KL(q ‖ p(z|x)) with a {family} posterior (nats; log p(x) and the KL by quadrature, the ELBO by Monte Carlo)",
            "example", "log p(x)", "ELBO", "log p(x) − ELBO", "KL(q ‖ p(z|x))", "difference", "tolerance", "holds");
        for (int i = 0; i < sides.Count; i++)
        {
            IdentitySides s = sides[i];
            table.Add((i + 1).ToString(CultureInfo.InvariantCulture), F(s.LogMarginal, "F4"), $"{F(s.Elbo, "F4")} ± {F(s.ElboStandardError, "F4")}",
                F(s.Difference, "F4"), F(s.Kl, "F4"), F(s.Difference - s.Kl, "F4"), F(s.Tolerance, "F4"), s.Holds ? "yes" : "NO");
        }
        return table;
    }

    /// <summary>The runtime facts a run depends on: versions, threads, device, vector instructions, natives.</summary>
    public static ValueTable Runtime(RuntimeInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new ValueTable("VaeLab runtime", "fact", "value")
            .Add("TorchSharp", $"{info.TorchSharpVersion} ({info.Backend})")
            .Add("libtorch", info.LibTorchVersion)
            .Add("threads", $"{info.Threads} of {info.LogicalProcessors} logical processors")
            .Add("device", info.Device)
            .Add("vector instructions", string.Join(", ", info.CpuFeatures))
            .Add("natives", info.NativeLibraries.Count == 0 ? info.ManagedDirectory : string.Join(", ", info.NativeLibraries.Select(Path.GetFileName)) + " in " + info.ManagedDirectory)
            .Add(".NET", info.DotnetVersion);
    }
}
