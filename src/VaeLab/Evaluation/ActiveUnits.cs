using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>How many latent dimensions a trained encoder uses (Burda, Grosse and Salakhutdinov 2016).</summary>
public static class ActiveUnits
{
    /// <summary>Draws per example of the Monte Carlo E_q[z] for a flow, whose mean is no closed form.</summary>
    public const int FlowDraws = 256;

    /// <summary>
    /// Active units (Burda et al. 2016): unit u is active when Cov_x(E_q[z_u]) = Var over the data of E_q[z_u | x] exceeds
    /// <paramref name="threshold"/> (0.01). E_q[z] is μ(x) for the Gaussian families; for a flow it is the mean of
    /// <see cref="FlowDraws"/> draws per example, and the draws' own noise (their variance over the draws, averaged over the data,
    /// divided by the draws) is subtracted so that it does not count as activity. Returns the count and every unit's variance.
    /// </summary>
    public static (int Active, double[] Variances) Count(VariationalAutoencoder model, Dataset data, double threshold = 0.01, int batchSize = 500)
    {
        using var noGrad = no_grad();
        model.eval();
        int d = (int)model.LatentDimensions;
        bool gaussian = model.Posterior is VaeLab.Models.Posteriors.DiagonalPosterior or VaeLab.Models.Posteriors.FullCovariancePosterior;
        var sum = new double[d];
        var sumSquares = new double[d];
        var noise = new double[d];
        using var generator = new Generator(0, TorchRuntime.Device);
        foreach (var (start, end) in Evaluator.Batches(data, gaussian ? batchSize : Math.Max(1, batchSize / 8)))
        {
            using var scope = NewDisposeScope();
            Tensor x = data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device);
            Tensor mean;
            if (gaussian)
                mean = model.Locate(x).to_type(ScalarType.Float64);
            else
            {
                Tensor parameters = model.Encode(x);
                Tensor epsilon = model.PosteriorNoise(parameters, FlowDraws, generator);
                Tensor draws = model.Posterior.Sample(parameters, epsilon).to_type(ScalarType.Float64);   // [S, N, d]
                mean = draws.mean([0]);
                double[] spread = draws.var(0).sum([0]).data<double>().ToArray();   // Σ over examples of Var_q over the draws
                for (int j = 0; j < d; j++) noise[j] += spread[j] / FlowDraws;
            }
            double[] s = mean.sum([0]).data<double>().ToArray();
            double[] q = mean.square().sum([0]).data<double>().ToArray();
            for (int j = 0; j < d; j++) { sum[j] += s[j]; sumSquares[j] += q[j]; }
        }
        int n = data.Count;
        double[] variances = Enumerable.Range(0, d)
            .Select(j => Math.Max((sumSquares[j] / n - Math.Pow(sum[j] / n, 2)) * n / Math.Max(n - 1, 1) - noise[j] / n, 0)).ToArray();
        return (variances.Count(v => v > threshold), variances);
    }

}
