using VaeLab.Benchmarks;
using VaeLab.Models;

namespace VaeLab.Tests.Benchmarks;

public class GemmFlopsTests
{
    [Fact]
    public void TheReferenceMlpCountsItsMatrixProductsByHand()
    {
        using var model = VaeConfig.Reference.Build();
        // Forward MACs: 784·400 + 400·40 (μ and log σ² head) + 20·400 + 400·784 = 651,200.
        // Backward: weight gradients again, input gradients for all but the data-reading layer (784·400).
        double forward = 2.0 * 651_200;
        double expected = forward + forward + 2.0 * (651_200 - 784 * 400);
        Assert.Equal(expected, GemmFlops.TrainingPerExample(model));
    }

    [Fact]
    public void AnIafPosteriorAddsItsMadeLayersAsDenseProducts()
    {
        using var diagonal = VaeConfig.Reference.Build();
        using var iaf = (VaeConfig.Reference with { Posterior = VaeLab.Models.Posteriors.PosteriorSpec.Parse("Iaf:2") }).Build();
        // The encoder's head grows from 2d to 3d outputs (μ, log σ², a context of d): 400·20 MACs more, forward and both gradients.
        // Each of the 2 layers multiplies z [d] and the context [d] into 4d hidden units, and those into 2d outputs: 4d² + 4d² + 8d²
        // MACs, 16·400 = 6,400 at d = 20, forward and both gradients.
        double head = 6.0 * 400 * 20;
        double flows = 2 * 6.0 * (16 * 20 * 20);
        Assert.Equal(GemmFlops.TrainingPerExample(diagonal) + head + flows, GemmFlops.TrainingPerExample(iaf));
    }

    [Fact]
    public void ADecoderPassToZCountsForwardAndInputGradientOfTheDecoderOnly()
    {
        using var model = VaeConfig.Reference.Build();
        // Decoder 20-400-784: forward 2·(20·400 + 400·784), the gradient back to z as much again.
        Assert.Equal(4.0 * (20 * 400 + 400 * 784), GemmFlops.DecoderGradientPerRow(model));
    }

    [Fact]
    public void ImportanceSamplingCountsOneEncoderAndKDecoderPasses()
    {
        using var model = VaeConfig.Reference.Build();
        double encoder = 2.0 * (784 * 400 + 400 * 40), decoder = 2.0 * (20 * 400 + 400 * 784);
        Assert.Equal(encoder + 1000 * decoder, GemmFlops.ImportanceSampledPerExample(model, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmFlops.ImportanceSampledPerExample(model, 0));
    }
}
