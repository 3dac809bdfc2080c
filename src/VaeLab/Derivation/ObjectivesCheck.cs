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
/// Then β-TCVAE's split of the KL (<see cref="TotalCorrelation"/>): the parts add up to the KL, the published estimator's
/// constants, each part against its closed form on a linear-Gaussian encoder of Gaussian data, the bias shrinking as the batch
/// grows, and the training loss with α = β = γ = 1 equal to −ELBO.
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
        rows.AddRange(TotalCorrelationRows(model, x, parameters));
        return rows;
    }

    // A linear-Gaussian encoder of Gaussian data: x ~ N(0, Σx) in 3-D, q(z|x) = N(Ax + b, diag s²) in 2-D. The aggregate q(z) is
    // N(b, AΣxAᵀ + S) and its marginals N(b_d, ·), so MI = ½ (log det Σz − log det S), TC = ½ (Σ_d log Σz_dd − log det Σz),
    // DWKL = ½ Σ_d (Σz_dd + b_d² − 1 − log Σz_dd) against the standard normal prior.
    static List<DerivationRow> TotalCorrelationRows(VariationalAutoencoder model, Tensor x, Tensor parameters)
    {
        var rows = new List<DerivationRow>();
        using var generator = new Generator(13);
        const int n = 4096;
        double[,] a = { { 1.2, -0.7, 0.4 }, { 0.9, 0.8, -0.3 } };
        double[] b = [0.3, -0.5], logS = [Math.Log(0.35), Math.Log(0.6)];
        double[,] mix = { { 1.0, 0.0, 0.0 }, { 0.5, 0.8, 0.0 }, { -0.3, 0.4, 0.7 } };   // x = mix · ε: Σx = mix mixᵀ
        Tensor epsilonX = randn(new long[] { n, 3 }, ScalarType.Float64, generator: generator);
        Tensor data = epsilonX.matmul(tensor(mix.Cast<double>().ToArray()).view(3, 3).t());
        Tensor mean = data.matmul(tensor(a.Cast<double>().ToArray()).view(2, 3).t()).add(tensor(b));
        Tensor logVariance = tensor(logS).expand(n, 2).contiguous();
        Tensor z = DiagonalGaussian.Sample(mean, logVariance, randn(new long[] { n, 2 }, ScalarType.Float64, generator: generator));
        Tensor logPrior = DiagonalGaussian.LogStandardNormal(z);

        // Closed forms.
        double[,] sx = new double[3, 3], sz = new double[2, 2];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) sx[i, j] += mix[i, k] * mix[j, k];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) for (int k = 0; k < 3; k++) for (int l = 0; l < 3; l++) sz[i, j] += a[i, k] * sx[k, l] * a[j, l];
        sz[0, 0] += Math.Exp(logS[0]); sz[1, 1] += Math.Exp(logS[1]);
        double logDetZ = Math.Log(sz[0, 0] * sz[1, 1] - sz[0, 1] * sz[1, 0]);
        double information = 0.5 * (logDetZ - logS.Sum());
        double correlation = 0.5 * (Math.Log(sz[0, 0]) + Math.Log(sz[1, 1]) - logDetZ);
        double dimensionWise = 0.5 * Enumerable.Range(0, 2).Sum(d => sz[d, d] + b[d] * b[d] - 1 - Math.Log(sz[d, d]));

        // The parts add up to the single-draw KL log q(z|x) − log p(z), for either estimator.
        Tensor kl = DiagonalGaussian.LogDensity(z, mean, logVariance).sub(logPrior);
        double worstSum = 0;
        foreach (TcEstimator estimator in Enum.GetValues<TcEstimator>())
        {
            var (mi, tc, dw) = TotalCorrelation.Decompose(z.narrow(0, 0, 256), mean.narrow(0, 0, 256), logVariance.narrow(0, 0, 256), logPrior.narrow(0, 0, 256), n, estimator);
            worstSum = Math.Max(worstSum, mi.add(tc).add(dw).sub(kl.narrow(0, 0, 256)).abs().max().item<double>());
        }
        rows.Add(new(Name, "β-TCVAE: MI + TC + dimension-wise KL = log q(z|x) − log p(z), each draw, both estimators (worst of 512)", worstSum, 0, worstSum, Exact,
            "TotalCorrelation.Decompose on a batch of 256 of 4,096 against the single-draw KL by DiagonalGaussian", worstSum <= Exact));

        // The stratified weights: the example's own posterior 1/N, the M − 1 others (N − 1)/(N (M − 1)) each, summing to 1.
        Tensor weights = TotalCorrelation.LogWeights(16, n, TcEstimator.MinibatchStratified, ScalarType.Float64).exp();
        double worstWeight = Math.Max(weights.diagonal().sub(1.0 / n).abs().max().item<double>(), weights.sum(1).sub(1).abs().max().item<double>());
        rows.Add(new(Name, "β-TCVAE: the stratified weights (M = 16 of N = 4,096): 1/N on the example's own posterior, each row summing to 1", worstWeight, 0, worstWeight, 1e-12,
            "exp of TotalCorrelation.LogWeights against 1/N on the diagonal and row sums of 1", worstWeight <= 1e-12));

        // The whole data set as the batch: the stratified estimate is the empirical aggregate; the published one is off by its constants.
        var (miFull, tcFull, dwFull) = TotalCorrelation.Decompose(z, mean, logVariance, logPrior, n, TcEstimator.MinibatchStratified);
        var (miPublished, tcPublished, dwPublished) = TotalCorrelation.Decompose(z, mean, logVariance, logPrior, n, TcEstimator.MinibatchWeighted);
        double logN = Math.Log(n);
        double constants = new[]
        {
            Math.Abs(miPublished.sub(miFull).mean().item<double>() - logN),
            Math.Abs(tcPublished.sub(tcFull).mean().item<double>() - (2 - 1) * logN),
            Math.Abs(dwPublished.sub(dwFull).mean().item<double>() + 2 * logN),
        }.Max();
        rows.Add(new(Name, "β-TCVAE: the published minibatch-weighted estimate at M = N = the stratified one + (log N, (d − 1) log N, −d log N)", constants, 0, constants, 1e-9,
            "TotalCorrelation.Decompose with both estimators on all 4,096 draws: MI, TC and dimension-wise KL differ by the published −log(NM)'s constants", constants <= 1e-9));
        foreach (var (part, estimate, exact) in new[] { ("index-code MI", miFull, information), ("total correlation", tcFull, correlation), ("dimension-wise KL", dwFull, dimensionWise) })
        {
            double value = estimate.mean().item<double>(), se = estimate.std().item<double>() / Math.Sqrt(n);
            rows.Add(DerivationRow.Equal(Name, $"β-TCVAE: {part}, stratified estimate at M = N = 4,096, = its closed form", value, exact, 4 * se + 0.01,
                "TotalCorrelation.Decompose (stratified) against the linear-Gaussian closed form; tolerance 4 standard errors + 0.01 nats for the finite data set"));
        }

        // The bias shrinks as the batch grows: the mean TC estimate over disjoint batches of M, against the whole set's (M = N).
        double whole = tcFull.mean().item<double>();
        var biases = new List<(int M, double Bias)>();
        foreach (int m in new[] { 16, 128, 1024 })
        {
            double sum = 0;
            for (int start = 0; start < n; start += m)
            {
                var (_, tc, _) = TotalCorrelation.Decompose(z.narrow(0, start, m), mean.narrow(0, start, m), logVariance.narrow(0, start, m), logPrior.narrow(0, start, m), n, TcEstimator.MinibatchStratified);
                sum += tc.sum().item<double>();
            }
            biases.Add((m, sum / n - whole));
        }
        bool shrinking = Math.Abs(biases[2].Bias) < Math.Abs(biases[1].Bias) && Math.Abs(biases[1].Bias) < Math.Abs(biases[0].Bias);
        rows.Add(new(Name, $"β-TCVAE: the stratified TC's bias shrinks as the batch grows ({string.Join(", ", biases.Select(p => $"M = {p.M}: {p.Bias:+0.000;−0.000}"))})",
            Math.Abs(biases[2].Bias), Math.Abs(biases[0].Bias), Math.Abs(biases[2].Bias), 0,
            "mean over disjoint batches of 4,096 draws of TotalCorrelation.Decompose's TC, minus the same on all 4,096 (M = N)", shrinking));

        // Training: α = β = γ = 1 gives −(the single-draw ELBO), the same draw as Elbo.Estimate's.
        double loss, elbo;
        using (var g1 = new Generator(7))
        using (no_grad())
        using (ObjectiveValue value = TrainingObjective.Evaluate(new ObjectiveOptions(ObjectiveKind.BetaTcvae, TcDatasetSize: 1000), model, x, 0, g1))
            loss = value.Loss.item<double>();
        using (var g2 = new Generator(7))
        using (no_grad())
        using (ElboEstimate terms = Elbo.Estimate(model, x, parameters, g2, 1))
            elbo = terms.ElboNats().mean().item<double>();
        rows.Add(DerivationRow.Equal(Name, "β-TCVAE's training loss with α = β = γ = 1 = −ELBO of the same draw", loss, -elbo, Exact,
            "TrainingObjective.Evaluate (BetaTcvae) against Elbo.Estimate with the same seed (Monte Carlo KL: mixture prior)"));
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
