using VaeLab.Models;
using VaeLab.Models.Priors;
using VaeLab.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 12, the IWAE family of objectives (Rainforth et al. 2018), on the production functions in float64 with draws replayed
/// from one seed: MIWAE(1, 1) and CIWAE(β = 1) are the ELBO, MIWAE(1, K) and CIWAE(β = 0) are IWAE_K, MIWAE(M, K) and CIWAE(β)
/// equal their definitions written out in plain arithmetic, and the training objective takes M·K draws and the bound asked for.
/// The model has a mixture prior, so the ELBO's KL is the Monte Carlo one and every identity is exact for the same draws.
/// </summary>
public sealed class ObjectivesCheck : IDerivationCheck
{
    /// <inheritdoc />
    public int Number => 12;

    string IDerivationCheck.Name => Name;

    /// <summary>The check's name in the table.</summary>
    public const string Name = "12 objectives";

    const long Seed = 12;
    const double Exact = 1e-10;

    /// <inheritdoc />
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run();

    /// <summary>Runs every row.</summary>
    public static IReadOnlyList<DerivationRow> Run()
    {
        using var scope = NewDisposeScope();
        using VariationalAutoencoder model = PriorsCheck.TestModel(PriorSpec.Parse("Mixture:3"), Seed);
        using var data = new Generator(Seed);
        Tensor x = rand(new long[] { 6, 1, 4, 4 }, ScalarType.Float64, generator: data);
        Tensor flat = x.view(6, -1);
        Tensor parameters;
        using (no_grad()) parameters = model.Encode(x);
        Tensor Weights(int k, long seed)
        {
            using var generator = new Generator((ulong)seed);
            using (no_grad()) return ImportanceWeightedBound.LogWeights(model, flat, parameters, k, generator);
        }
        Tensor ElboOf(int samples, long seed)
        {
            using var generator = new Generator((ulong)seed);
            using (no_grad())
            using (ElboEstimate terms = Elbo.Estimate(model, x, parameters, generator, samples))
                return terms.ElboNats();
        }
        Tensor IwaeOf(int k, long seed)
        {
            using var generator = new Generator((ulong)seed);
            using (no_grad()) return ImportanceWeightedBound.Estimate(model, x, k, generator);
        }
        static double Worst(Tensor a, Tensor b) => a.sub(b).abs().max().item<double>();

        var rows = new List<DerivationRow>();
        double d = Worst(ImportanceWeightedBound.Miwae(Weights(1, 1), 1), ElboOf(1, 1));
        rows.Add(new(Name, "MIWAE(M = 1, K = 1) = the ELBO of the same draw (worst of 6 examples)", d, 0, d, Exact,
            "ImportanceWeightedBound.Miwae on LogWeights(k = 1) against Elbo.Estimate with the same seed (Monte Carlo KL: mixture prior)", d <= Exact));
        d = Worst(ImportanceWeightedBound.Ciwae(Weights(8, 2), 1), ElboOf(8, 2));
        rows.Add(new(Name, "CIWAE(β = 1) = the ELBO of the same K = 8 draws (worst of 6)", d, 0, d, Exact,
            "ImportanceWeightedBound.Ciwae on LogWeights(k = 8) against Elbo.Estimate(samples = 8) with the same seed", d <= Exact));
        d = Worst(ImportanceWeightedBound.Ciwae(Weights(8, 3), 0), IwaeOf(8, 3));
        rows.Add(new(Name, "CIWAE(β = 0) = IWAE_K of the same K = 8 draws (worst of 6)", d, 0, d, Exact,
            "ImportanceWeightedBound.Ciwae against ImportanceWeightedBound.Estimate with the same seed", d <= Exact));
        d = Worst(ImportanceWeightedBound.Miwae(Weights(8, 4), 1), IwaeOf(8, 4));
        rows.Add(new(Name, "MIWAE(M = 1, K = 8) = IWAE_8 of the same draws (worst of 6)", d, 0, d, Exact,
            "ImportanceWeightedBound.Miwae against ImportanceWeightedBound.Estimate with the same seed", d <= Exact));

        // The definitions written out: M groups of K consecutive draws; β·mean + (1 − β)·log-mean-exp.
        const int m = 3, k = 4;
        Tensor weights = Weights(m * k, 5);
        double[,] w = ToArray(weights);
        double worstMiwae = 0, worstCiwae = 0;
        Tensor miwae = ImportanceWeightedBound.Miwae(weights, m), ciwae = ImportanceWeightedBound.Ciwae(weights.narrow(0, 0, k), 0.3);
        for (int n = 0; n < w.GetLength(1); n++)
        {
            double sum = 0;
            for (int g = 0; g < m; g++) sum += LogMeanExp(Enumerable.Range(g * k, k).Select(i => w[i, n]).ToArray());
            worstMiwae = Math.Max(worstMiwae, Math.Abs(miwae[n].item<double>() - sum / m));
            double[] first = Enumerable.Range(0, k).Select(i => w[i, n]).ToArray();
            worstCiwae = Math.Max(worstCiwae, Math.Abs(ciwae[n].item<double>() - (0.3 * first.Average() + 0.7 * LogMeanExp(first))));
        }
        rows.Add(new(Name, $"MIWAE(M = {m}, K = {k}) = (1/M) Σ_m log (1/K) Σ_k w_mk, groups of K consecutive draws (worst of 6)", worstMiwae, 0, worstMiwae, Exact,
            "ImportanceWeightedBound.Miwae against the definition in plain double arithmetic, max-shifted log-mean-exp", worstMiwae <= Exact));
        rows.Add(new(Name, "CIWAE(β = 0.3) = 0.3 · mean log w + 0.7 · log mean w over K = 4 draws (worst of 6)", worstCiwae, 0, worstCiwae, Exact,
            "ImportanceWeightedBound.Ciwae against the definition in plain double arithmetic", worstCiwae <= Exact));

        // The training objective: MIWAE takes M·K draws and averages M bounds of K; CIWAE uses its β.
        foreach (var (options, expected, what) in new[]
        {
            (new ObjectiveOptions(ObjectiveKind.Miwae, IwaeSamples: 4, MiwaeGroups: 2), ImportanceWeightedBound.Miwae(Weights(8, 6), 2), "MIWAE(2, 4)"),
            (new ObjectiveOptions(ObjectiveKind.Ciwae, IwaeSamples: 4, CiwaeBeta: 0.25), ImportanceWeightedBound.Ciwae(Weights(4, 6), 0.25), "CIWAE(0.25) with K = 4"),
        })
        {
            using var generator = new Generator(6);
            double loss;
            using (no_grad())
            using (ObjectiveValue value = TrainingObjective.Evaluate(options, model, x, 0, generator))
                loss = value.Loss.item<double>();
            double bound = -expected.mean().item<double>();
            rows.Add(DerivationRow.Equal(Name, $"training loss of {what} = −(mean over the batch of the bound)", loss, bound, Exact,
                "TrainingObjective.Evaluate against ImportanceWeightedBound on LogWeights of M·K draws from the same seed"));
        }
        return rows;
    }

    static double[,] ToArray(Tensor weights)
    {
        double[] flat = weights.data<double>().ToArray();
        int rows = (int)weights.shape[0], columns = (int)weights.shape[1];
        var result = new double[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) result[i, j] = flat[i * columns + j];
        return result;
    }

    static double LogMeanExp(double[] values)
    {
        double max = values.Max();
        return max + Math.Log(values.Average(v => Math.Exp(v - max)));
    }
}
