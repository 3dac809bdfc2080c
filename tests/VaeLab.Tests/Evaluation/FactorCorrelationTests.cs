using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;

namespace VaeLab.Tests.Evaluation;

public class FactorCorrelationTests
{
    /// <summary>An encoder whose mean is the input itself: the latent is exactly the data.</summary>
    sealed class IdentityEncoder() : GaussianEncoder(nameof(IdentityEncoder), 2)
    {
        public override string Signature => "identity";
        public override (Tensor Mean, Tensor LogVariance) forward(Tensor x) => (x.flatten(1).clone(), zeros(x.shape[0], 2));
    }

    [Fact]
    public void ALatentThatIsAFactorCorrelatesFullyAndOnlyWithIt()
    {
        using var generator = new Generator(4);
        using var x = randn(new long[] { 2000, 2 }, generator: generator);
        using var noise = randn(new long[] { 2000, 1 }, generator: generator);
        // Factors: z₁ itself, an affine function of −z₂, and noise independent of both.
        using var factors = cat([x[.., 0].unsqueeze(1), x[.., 1].unsqueeze(1).mul(-3).add(1), noise], 1);
        using var data = new Dataset("factors", "test", x.clone(), factors: factors.clone(), factorNames: ["a", "b", "noise"]);
        using var model = new VariationalAutoencoder(new IdentityEncoder(), new MlpDecoder(2, [], 2), new GaussianLikelihood(GaussianVariance.Fixed, 2), [2]);
        double[][] correlation = FactorCorrelation.Compute(model, data, batchSize: 300);
        Assert.Equal(1.0, correlation[0][0], 6);
        Assert.Equal(1.0, correlation[1][1], 6);
        Assert.InRange(correlation[0][1], 0, 0.1);
        Assert.InRange(correlation[1][2], 0, 0.1);
        using var plain = new Dataset("no factors", "test", x.clone());
        Assert.Throws<ArgumentException>(() => FactorCorrelation.Compute(model, plain));
    }
}
