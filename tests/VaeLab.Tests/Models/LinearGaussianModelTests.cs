using VaeLab.Models;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Models;

public class LinearGaussianModelTests
{
    [Fact]
    public void LogMarginalMatchesTheDenseGaussianDensity()
    {
        using var model = LinearGaussianModel.Random(dataDimensions: 7, latentDimensions: 3, sigma: 0.6, seed: 1);
        using var generator = new Generator(2);
        var (x, z) = model.Sample(5, generator);
        using (x) using (z)
        {
            // Independent route: the D×D covariance, its log-determinant and a linear solve.
            using var covariance = model.Weight.matmul(model.Weight.t()).add(eye(7, dtype: ScalarType.Float64).mul(0.36));
            using var r = x - model.Bias;
            using var solved = linalg.solve(covariance, r.t());
            double logDet = linalg.slogdet(covariance).Item2.item<double>();
            double[] expected = Enumerable.Range(0, 5).Select(n =>
                -0.5 * (7 * Math.Log(2 * Math.PI) + logDet + r[n].dot(solved[.., n]).item<double>())).ToArray();
            Assert.Equal(expected, model.LogMarginal(x).data<double>().ToArray(), new ToleranceComparer(1e-10));
        }
    }

    [Fact]
    public void BayesRuleHoldsExactlyForAnyLatent()
    {
        // log p(x) = log p(x|z) + log p(z) − log p(z|x) for every z: the posterior is the exact one.
        using var model = LinearGaussianModel.Random(dataDimensions: 784, latentDimensions: 20, sigma: 0.3, seed: 3, weightScale: 0.2);
        using var generator = new Generator(4);
        var (x, _) = model.Sample(6, generator);
        using (x)
        {
            using var z = randn(new long[] { 6, 20 }, ScalarType.Float64, generator: generator);
            var (mean, covariance) = model.Posterior(x);
            using (mean) using (covariance)
            {
                using var posterior = new TorchSharp.Modules.MultivariateNormal(mean, covariance);
                using var logPosterior = posterior.log_prob(z);
                using var rhs = model.LogLikelihood(x, z) + model.LogPrior(z) - logPosterior;
                using var lhs = model.LogMarginal(x);
                Assert.True(lhs.allclose(rhs, rtol: 0, atol: 1e-8), $"{lhs.sub(rhs).abs().max().item<double>()}");
            }
        }
    }

    [Fact]
    public void OrthogonalColumnsGiveADiagonalPosteriorCovariance()
    {
        using var model = LinearGaussianModel.Random(50, 4, 0.5, seed: 5, orthogonalColumns: true);
        using var x = zeros(1, 50, dtype: ScalarType.Float64);
        var (_, covariance) = model.Posterior(x);
        using (covariance)
        {
            using var offDiagonal = covariance - covariance.diagonal().diag();
            Assert.True(offDiagonal.abs().max().item<double>() < 1e-12);
        }
    }

    [Fact]
    public void MismatchedShapesAreRefused()
    {
        using var w = zeros(5, 2);
        using var b = zeros(4);
        Assert.Throws<ArgumentException>(() => new LinearGaussianModel(w, b, 1));
        using var b5 = zeros(5);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearGaussianModel(w, b5, 0));
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double value) => 0;
    }
}
