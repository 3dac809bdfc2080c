using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>How many latent dimensions a trained encoder uses (Burda, Grosse and Salakhutdinov 2016).</summary>
public static class ActiveUnits
{
    /// <summary>
    /// Active units (Burda et al. 2016): unit u is active when Cov_x(E_q[z_u]) = Var over the data of μ_u(x)
    /// exceeds <paramref name="threshold"/> (0.01). Returns the count and every unit's variance.
    /// </summary>
    public static (int Active, double[] Variances) Count(VariationalAutoencoder model, Dataset data, double threshold = 0.01, int batchSize = 500)
    {
        using var noGrad = no_grad();
        model.eval();
        int d = (int)model.LatentDimensions;
        var sum = new double[d];
        var sumSquares = new double[d];
        foreach (var (start, end) in Evaluator.Batches(data, batchSize))
        {
            using var scope = NewDisposeScope();
            Tensor x = data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device);
            Tensor mean = model.Locate(x).to_type(ScalarType.Float64);
            double[] s = mean.sum([0]).data<double>().ToArray();
            double[] q = mean.square().sum([0]).data<double>().ToArray();
            for (int j = 0; j < d; j++) { sum[j] += s[j]; sumSquares[j] += q[j]; }
        }
        int n = data.Count;
        double[] variances = Enumerable.Range(0, d).Select(j => Math.Max(sumSquares[j] / n - Math.Pow(sum[j] / n, 2), 0) * n / Math.Max(n - 1, 1)).ToArray();
        return (variances.Count(v => v > threshold), variances);
    }

}
