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
