using VaeLab.Data;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>
/// How each latent dimension tracks each known generative factor: |Pearson correlation| between the encoder
/// mean μ_j(x) and factor k over a dataset whose factors are known (e.g. <see cref="Data.Synthetic.Shapes"/>).
/// A disentangled code has about one large entry per row and column.
/// </summary>
public static class FactorCorrelation
{
    /// <summary>|corr(μ_j, factor_k)|, [latent][factor]; 0 where either side does not vary.</summary>
    /// <exception cref="ArgumentException">The data carries no factors.</exception>
    public static double[][] Compute(VariationalAutoencoder model, Dataset data, int batchSize = 500)
    {
        if (data.Factors is null) throw new ArgumentException($"Dataset '{data.Name}' has no generative factors.", nameof(data));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var means = new List<Tensor>();
        for (long start = 0; start < data.Count; start += batchSize)
            means.Add(model.Encode(data.Examples.slice(0, start, Math.Min(start + batchSize, data.Count), 1)).Mean);
        Tensor mu = cat(means, 0).to_type(ScalarType.Float64);
        Tensor factors = data.Factors.to_type(ScalarType.Float64);
        Tensor a = mu - mu.mean([0], keepdim: true), b = factors - factors.mean([0], keepdim: true);
        Tensor covariance = a.t().matmul(b);                                   // [latent, factors]
        Tensor scale = a.square().sum([0]).sqrt().unsqueeze(1) * b.square().sum([0]).sqrt().unsqueeze(0);
        Tensor correlation = covariance.abs().div(scale.clamp_min(1e-300)).nan_to_num(0);
        double[] flat = correlation.data<double>().ToArray();
        int columns = (int)correlation.shape[1];
        return Enumerable.Range(0, (int)correlation.shape[0]).Select(j => flat[(j * columns)..((j + 1) * columns)]).ToArray();
    }
}
