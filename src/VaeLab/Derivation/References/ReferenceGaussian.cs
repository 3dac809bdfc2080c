using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Derivation.References;

/// <summary>
/// Gaussian quantities computed the way the library does not, for the reference side of a check: log-densities
/// by TorchSharp's <see cref="Normal"/> distribution, KL divergences by dense float64 linear algebra (Cholesky
/// factors, traces, log-determinants) or by Gauss–Hermite quadrature of the log-density ratio. None of it calls
/// <c>DiagonalGaussian</c> or <c>GaussianKl</c>.
/// </summary>
public static class ReferenceGaussian
{
    /// <summary>Σ_i log N(x_i; μ_i, σ_i²) over the last dimension by TorchSharp's <see cref="Normal"/>, float64: σ (not log σ²) is given.</summary>
    public static Tensor LogDensity(Tensor x, Tensor mean, Tensor standardDeviation)
    {
        using var scope = NewDisposeScope();
        IList<Tensor> b = broadcast_tensors(x.to_type(ScalarType.Float64), mean.to_type(ScalarType.Float64), standardDeviation.to_type(ScalarType.Float64));
        using var normal = new Normal(b[1], b[2]);
        return normal.log_prob(b[0]).sum(-1).MoveToOuterDisposeScope();
    }

    /// <summary>log N(z; 0, I) over the last dimension by TorchSharp's <see cref="Normal"/>, float64.</summary>
    public static Tensor LogStandardNormal(Tensor z)
    {
        using var scope = NewDisposeScope();
        return LogDensity(z, zeros_like(z, ScalarType.Float64), ones_like(z, ScalarType.Float64)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log N(z; μ, Σ) with a full covariance by its Cholesky factor L: −½(‖L⁻¹(z − μ)‖² + log|Σ| + d log 2π).
    /// <paramref name="z"/> [N, d], <paramref name="mean"/> [N, d] or [d], <paramref name="covariance"/> [d, d]: [N] float64, nats.
    /// </summary>
    public static Tensor LogDensityFull(Tensor z, Tensor mean, Tensor covariance)
    {
        using var scope = NewDisposeScope();
        Tensor cholesky = linalg.cholesky(covariance.to_type(ScalarType.Float64));
        Tensor whitened = linalg.solve_triangular(cholesky, z.to_type(ScalarType.Float64).sub(mean.to_type(ScalarType.Float64)).t(), upper: false);
        double logDet = 2 * cholesky.diagonal().log().sum().item<double>();
        return whitened.square().sum([0]).add(logDet + z.shape[1] * Math.Log(2 * Math.PI)).mul(-0.5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(N(m, diag s²) ‖ N(μ, Σ)) by dense linear algebra: ½[tr(Σ⁻¹S) + (μ − m)ᵀΣ⁻¹(μ − m) − d + log|Σ| − log|S|],
    /// with Σ⁻¹ through its Cholesky factor. <paramref name="qMean"/> and <paramref name="qVariance"/> [N, d],
    /// <paramref name="mean"/> [N, d] or [d], <paramref name="covariance"/> [d, d]: [N] float64, nats.
    /// </summary>
    public static Tensor KlDiagonalToFull(Tensor qMean, Tensor qVariance, Tensor mean, Tensor covariance)
    {
        using var scope = NewDisposeScope();
        Tensor m = qMean.to_type(ScalarType.Float64), v = qVariance.to_type(ScalarType.Float64);
        Tensor cholesky = linalg.cholesky(covariance.to_type(ScalarType.Float64));
        long d = m.shape[1];
        Tensor precision = cholesky_inverse(cholesky);                                    // Σ⁻¹
        Tensor delta = mean.to_type(ScalarType.Float64).sub(m);                            // [N, d]
        Tensor trace = v.mul(precision.diagonal()).sum(1);                                 // tr(Σ⁻¹ diag v)
        Tensor quadratic = delta.matmul(precision).mul(delta).sum(1);
        double logDetCovariance = 2 * cholesky.diagonal().log().sum().item<double>();
        Tensor logDetQ = v.log().sum(1);
        return trace.add(quadratic).sub(d).add(logDetCovariance).sub(logDetQ).mul(0.5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(N(m, S) ‖ N(μ, Σ)) between full-covariance Gaussians by dense linear algebra: ½[tr(Σ⁻¹S) + (μ − m)ᵀΣ⁻¹(μ − m) − d + log|Σ| − log|S|],
    /// log-determinants by <c>slogdet</c>. <paramref name="qMean"/> [N, d], <paramref name="qCovariance"/> [N, d, d], <paramref name="mean"/>
    /// [N, d], <paramref name="covariance"/> [d, d]: [N] float64, nats.
    /// </summary>
    public static Tensor KlFullToFull(Tensor qMean, Tensor qCovariance, Tensor mean, Tensor covariance)
    {
        using var scope = NewDisposeScope();
        Tensor s = qCovariance.to_type(ScalarType.Float64), sigma = covariance.to_type(ScalarType.Float64);
        long d = sigma.shape[0];
        Tensor precision = linalg.inv(sigma);
        Tensor delta = mean.to_type(ScalarType.Float64).sub(qMean.to_type(ScalarType.Float64));
        Tensor trace = s.mul(precision.t()).sum([1, 2]);
        Tensor quadratic = delta.matmul(precision).mul(delta).sum(1);
        var (_, logDetSigma) = linalg.slogdet(sigma);
        var (_, logDetS) = linalg.slogdet(s);
        return trace.add(quadratic).sub(d).add(logDetSigma).sub(logDetS).mul(0.5).MoveToOuterDisposeScope();
    }

    /// <summary>KL(N(m, diag s²) ‖ N(0, I)) by dense linear algebra (the identity as the full covariance): [N] float64.</summary>
    public static Tensor KlToStandardNormal(Tensor qMean, Tensor qVariance)
    {
        using var scope = NewDisposeScope();
        long d = qMean.shape[1];
        return KlDiagonalToFull(qMean, qVariance, zeros(d, dtype: ScalarType.Float64), eye(d, dtype: ScalarType.Float64)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(N(m, diag s²) ‖ N(0, I)) per dimension as E_q[log q − log p] by a 12-node Gauss–Hermite rule with
    /// <see cref="Normal"/> log-densities: exact up to round-off, since the log-ratio is a quadratic in z.
    /// <paramref name="qMean"/> and <paramref name="qVariance"/> [N, d]: [N, d] float64, nats.
    /// </summary>
    public static Tensor KlPerDimensionByQuadrature(Tensor qMean, Tensor qVariance)
    {
        using var scope = NewDisposeScope();
        var (nodes, weights) = GaussHermite.Rule(12);
        Tensor m = qMean.to_type(ScalarType.Float64).unsqueeze(-1), s = qVariance.to_type(ScalarType.Float64).sqrt().unsqueeze(-1);
        Tensor z = m.add(s.mul(tensor(nodes).mul(Math.Sqrt(2))));                            // [N, d, 12]
        using var q = new Normal(m.expand(z.shape), s.expand(z.shape));
        using var p = new Normal(zeros_like(z), ones_like(z));
        Tensor ratio = q.log_prob(z).sub(p.log_prob(z));
        return ratio.mul(tensor(weights).div(Math.Sqrt(Math.PI))).sum(-1).MoveToOuterDisposeScope();
    }
}
