using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Training;

public class MlpBernoulliStepTests
{
    // Reference: autograd in float64 through the library's own formulas (encoder, DiagonalGaussian.Sample, the likelihood's
    // LogProb, GaussianKl) with the same ε, cast up: a different route from the hand-derived float32 step.
    internal static (double Loss, Tensor[] Gradients) Reference(VaeConfig config, VariationalAutoencoder model, Tensor x, Tensor epsilon, double beta)
    {
        VariationalAutoencoder copy = config.Build();
        using (no_grad())
            foreach (var (mine, theirs) in copy.parameters().Zip(model.parameters())) mine.copy_(theirs);
        copy.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        Tensor x64 = x.to_type(ScalarType.Float64).view(x.shape[0], -1);
        var (mean, logVariance) = copy.EncodeDiagonal(x64);
        Tensor z = DiagonalGaussian.Sample(mean, logVariance, epsilon.to_type(ScalarType.Float64));
        Tensor reconstruction = copy.Likelihood.LogProb(x64, copy.Decode(z));
        Tensor kl = GaussianKl.PerDimension(mean, logVariance).sum(1);
        Tensor loss = kl.mul(beta).sub(reconstruction).mean();
        loss.backward();
        var gradients = copy.parameters().Select(p => p.grad!.detach().clone().MoveToOuterDisposeScope()).ToArray();
        double value = loss.item<double>();
        copy.Dispose();
        return (value, gradients);
    }

    [Theory]
    [InlineData(1.0, 32)]
    [InlineData(4.0, 32)]
    [InlineData(0.0, 7)]
    public void TheHandDerivedGradientIsAutogradsInFloat64WithTheSameEpsilon(double beta, int rows)
    {
        // Hidden widths 30 and 13: not multiples of any vector width, so the scalar tails of the masks and sums run too.
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 5, HiddenSizes: [30, 13], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(3);
        VariationalAutoencoder model = config.Build();
        using var optimizer = new FlatAdam(model.parameters());   // gradients exist (views of its buffer), as in training
        using Dataset data = TestModels.SmallShapes(rows, seed: 2);
        var step = new MlpBernoulliStep(model);
        Assert.NotNull(step);

        // The ε the step draws: the same generator state, the same shape as VariationalAutoencoder.Reparameterize asks for.
        using var generator = new Generator(11);
        using Tensor epsilon = randn(new long[] { rows, 5 }, generator: generator);
        var (expectedLoss, expected) = Reference(config, model, data.Examples, epsilon, beta);

        optimizer.ZeroGrad();
        foreach (var p in model.parameters()) p.grad!.fill_(float.NaN);   // the step must overwrite every gradient, not add to it
        generator.manual_seed(11);
        var (loss, reconstructionSum, klSum) = step.Run(data.Examples, beta, generator);

        Assert.Equal(expectedLoss, loss, 4);
        Assert.Equal(expectedLoss, (beta * klSum - reconstructionSum) / rows, 4);
        var actual = model.parameters().Select(p => p.grad!).ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            double scale = expected[i].abs().max().item<double>() + 1e-12;
            double error = (actual[i].to_type(ScalarType.Float64) - expected[i]).abs().max().item<double>() / scale;
            Assert.True(error < 1e-5, $"parameter {i} [{string.Join("x", actual[i].shape)}]: relative error {error:E2}");
        }
        foreach (var g in expected) g.Dispose();
    }

    [Fact]
    public void OnlyTheBetaElboOfMlpBernoulliModelsInFloat32OnCpuIsHandDerived()
    {
        var (bernoulli, _) = TestModels.SmallVae();
        var (gaussian, _) = TestModels.SmallVae(likelihood: LikelihoodKind.GaussianFixed);
        Assert.True(StepSelector.HandDerivedApplies(bernoulli, new ObjectiveOptions(Beta: 2, WarmupSteps: 5)));
        Assert.False(StepSelector.HandDerivedApplies(bernoulli, new ObjectiveOptions(ObjectiveKind.Iwae)));
        Assert.False(StepSelector.HandDerivedApplies(bernoulli, new ObjectiveOptions(ObjectiveKind.Capacity)));
        Assert.False(StepSelector.HandDerivedApplies(gaussian, new ObjectiveOptions()));
        bernoulli.to(ScalarType.Float64);
        Assert.False(StepSelector.HandDerivedApplies(bernoulli, new ObjectiveOptions()));
    }
}
