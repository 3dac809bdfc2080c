using VaeLab.Models;
using VaeLab.Objectives;

namespace VaeLab.Tests.Objectives;

public class ElboTests
{
    [Fact]
    public void BetaOneLossIsMinusTheElbo()
    {
        var (model, _) = TestModels.SmallVae();
        using var data = TestModels.SmallShapes(32);
        using var generator = new Generator(1);
        using ElboEstimate terms = Elbo.Estimate(model, data.Examples, generator);
        using var loss = terms.BetaLoss(1.0);
        using var elbo = terms.ElboNats().mean();
        Assert.Equal(-elbo.item<float>(), loss.item<float>(), 4);
        // And the terms are signed as named: KL ≥ 0, Bernoulli log-likelihood ≤ 0, ELBO = log-lik − KL.
        Assert.True(terms.KlNats.min().item<float>() >= 0);
        Assert.True(terms.ReconstructionLogLikelihoodNats.max().item<float>() <= 0);
        using var beta4 = terms.BetaLoss(4.0);
        using var expected = (terms.DistortionNats() + terms.KlNats * 4).mean();
        Assert.Equal(expected.item<float>(), beta4.item<float>(), 3);
    }

    [Fact]
    public void ManySamplesAverageTheReconstructionTerm()
    {
        var (model, _) = TestModels.SmallVae();
        model.to(ScalarType.Float64);
        using var data = TestModels.SmallShapes(8);
        using var x = data.Examples.to_type(ScalarType.Float64);
        using var generator = new Generator(2);
        using ElboEstimate many = Elbo.Estimate(model, x, generator, samples: 4000);
        using var g2 = new Generator(3);
        double sum = 0;
        for (int i = 0; i < 400; i++)
        {
            using ElboEstimate one = Elbo.Estimate(model, x, g2);
            sum += one.ReconstructionLogLikelihoodNats.mean().item<double>();
        }
        Assert.Equal(many.ReconstructionLogLikelihoodNats.mean().item<double>(), sum / 400, 0);
    }
}
