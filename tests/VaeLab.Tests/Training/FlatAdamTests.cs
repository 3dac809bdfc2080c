using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Training;

public class FlatAdamTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void FlatAdamFollowsTorchAdamStepForStep(double weightDecay)
    {
        using var data = TestModels.SmallShapes(64);
        using var x = data.Examples.to_type(ScalarType.Float64);
        var (reference, _) = TestModels.SmallVae(seed: 4);
        var (flat, _) = TestModels.SmallVae(seed: 4);
        reference.to(ScalarType.Float64);
        flat.to(ScalarType.Float64);
        using var torchAdam = optim.Adam(reference.parameters(), 1e-2, weight_decay: weightDecay);
        using var flatAdam = new FlatAdam(flat.parameters(), 1e-2, weightDecay: weightDecay);
        for (int step = 0; step < 5; step++)
        {
            using var g1 = new Generator((ulong)step);
            using var g2 = new Generator((ulong)step);
            torchAdam.zero_grad();
            flatAdam.ZeroGrad();
            using (var terms = Elbo.Estimate(reference, x, g1)) using (var loss = terms.BetaLoss(1)) loss.backward();
            using (var terms = Elbo.Estimate(flat, x, g2)) using (var loss = terms.BetaLoss(1)) loss.backward();
            torchAdam.step();
            flatAdam.Step();
        }
        foreach (var ((name, a), (_, b)) in reference.named_parameters().Zip(flat.named_parameters()))
            Assert.True(a.allclose(b, rtol: 1e-9, atol: 1e-12), name);
        Assert.Equal(5, flatAdam.Steps);
    }

    // The float32 path is the fused one-pass update (FusedAdam) with vectors plus a scalar tail: the same steps as torch's Adam
    // to float32 rounding, on a model whose parameter count is not a multiple of the vector width.
    [Fact]
    public void FusedFloat32StepFollowsTorchAdam()
    {
        using var data = TestModels.SmallShapes(64);
        var (reference, _) = TestModels.SmallVae(seed: 5);
        var (flat, _) = TestModels.SmallVae(seed: 5);
        using var torchAdam = optim.Adam(reference.parameters(), 1e-2, weight_decay: 0.01);
        using var flatAdam = new FlatAdam(flat.parameters(), 1e-2, weightDecay: 0.01);
        Assert.NotEqual(0, flatAdam.Count % 16);
        for (int step = 0; step < 5; step++)
        {
            using var g1 = new Generator((ulong)step);
            using var g2 = new Generator((ulong)step);
            torchAdam.zero_grad();
            flatAdam.ZeroGrad();
            using (var terms = Elbo.Estimate(reference, data.Examples, g1)) using (var loss = terms.BetaLoss(1)) loss.backward();
            using (var terms = Elbo.Estimate(flat, data.Examples, g2)) using (var loss = terms.BetaLoss(1)) loss.backward();
            torchAdam.step();
            flatAdam.Step();
        }
        foreach (var ((name, a), (_, b)) in reference.named_parameters().Zip(flat.named_parameters()))
        {
            Assert.Equal(ScalarType.Float32, b.dtype);
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6), name);
        }
    }

    [Fact]
    public void GradientsStayViewsOfTheFlatBufferAcrossBackwardPasses()
    {
        var (model, _) = TestModels.SmallVae();
        using var adam = new FlatAdam(model.parameters());
        using var data = TestModels.SmallShapes(16);
        for (int i = 0; i < 2; i++)
        {
            adam.ZeroGrad();
            using var terms = Elbo.Estimate(model, data.Examples);
            using var loss = terms.BetaLoss(1);
            loss.backward();
        }
        // The flat norm equals the norm of the parameters' own gradients: they are the same memory.
        double separate = Math.Sqrt(model.parameters().Sum(p => Math.Pow(p.grad!.norm().item<float>(), 2)));
        Assert.Equal(separate, adam.GradientNorm(), 3);
        Assert.True(adam.GradientNorm() > 0);
    }

    [Fact]
    public void ClippingScalesTheJointNormDown()
    {
        var (model, _) = TestModels.SmallVae();
        using var adam = new FlatAdam(model.parameters());
        using var data = TestModels.SmallShapes(16);
        using (var terms = Elbo.Estimate(model, data.Examples)) using (var loss = terms.BetaLoss(1)) loss.backward();
        double before = adam.ClipGradientNorm(0.5);
        Assert.True(before > 0.5);
        Assert.Equal(0.5, adam.GradientNorm(), 4);
    }
}
