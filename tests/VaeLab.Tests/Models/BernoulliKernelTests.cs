using System.Numerics;
using System.Runtime.InteropServices;
using VaeLab.Models;

namespace VaeLab.Tests.Models;

public class BernoulliKernelTests
{
    static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    // Logits over the whole range the kernel treats differently: far negative (exp underflows), large, moderate, zero.
    static Tensor Logits(int rows, int width, long seed)
    {
        using var generator = new Generator((ulong)seed);
        Tensor logits = randn(new long[] { rows, width }, generator: generator).mul_(6);
        float[] extremes = [-120f, -88f, -30f, -17f, -1e-3f, 0f, 1e-3f, 17f, 30f, 88f, 120f];
        for (int j = 0; j < extremes.Length && j < width; j++) logits[0, j] = tensor(extremes[j]);
        return logits;
    }

    [Theory]
    [InlineData(7, 784)]   // the reference width, a multiple of every vector size
    [InlineData(5, 61)]    // a scalar tail after the vectors
    [InlineData(3, 3)]     // narrower than one vector
    public void LogLikelihoodAndGradientMatchTorchInFloat64(int rows, int width)
    {
        using var scope = NewDisposeScope();
        Tensor logits = Logits(rows, width, seed: rows * 1000 + width);
        using var generator = new Generator(3);
        Tensor x = rand(new long[] { rows, width }, generator: generator);   // grey levels as well as 0/1 targets
        x[0] = x[0].gt(0.5).to_type(ScalarType.Float32);
        Tensor value = empty(rows), gradient = empty(rows, width);
        BernoulliKernel.Evaluate(Floats(logits), Floats(x), Floats(value), Floats(gradient), 0.25f, width);

        // Reference: libtorch's binary cross-entropy with logits and autograd, in float64.
        Tensor l64 = logits.to_type(ScalarType.Float64).requires_grad_(), x64 = x.to_type(ScalarType.Float64);
        Tensor reference = nn.functional.binary_cross_entropy_with_logits(l64, x64, reduction: nn.Reduction.None).sum(1).neg();
        reference.sum().mul(-0.25).backward();
        double valueError = (value.to_type(ScalarType.Float64) - reference).abs().div(reference.abs().add(1)).max().item<double>();
        double gradientError = (gradient.to_type(ScalarType.Float64) - l64.grad!).abs().max().item<double>();
        Assert.True(valueError < 1e-6, $"log-likelihood relative error {valueError:E2}");
        Assert.True(gradientError < 1e-7, $"gradient error {gradientError:E2}");
    }

    [Fact]
    public void TheGradientMayOverwriteTheLogitsAndTheValueAloneLeavesThemAlone()
    {
        using var scope = NewDisposeScope();
        Tensor logits = Logits(4, 40, seed: 9), x = rand(4, 40).gt(0.5).to_type(ScalarType.Float32);
        Tensor kept = logits.clone(), value = empty(4), separate = empty(4, 40), inPlaceValue = empty(4);
        BernoulliKernel.Evaluate(Floats(logits), Floats(x), Floats(value), Span<float>.Empty, 1, 40);
        Assert.True(TensorAssert.Identical(kept, logits));
        BernoulliKernel.Evaluate(Floats(logits), Floats(x), Floats(value), Floats(separate), 1, 40);
        BernoulliKernel.Evaluate(Floats(logits), Floats(x), Floats(inPlaceValue), Floats(logits), 1, 40);
        Assert.True(TensorAssert.Identical(separate, logits));
        Assert.True(TensorAssert.Identical(value, inPlaceValue));
    }

    [Fact]
    public void ExpAndLog1pKeepFloat32PrecisionOverTheirRanges()
    {
        int lanes = Vector<float>.Count;
        double worstExp = 0, worstLog1p = 0;
        for (int i = 0; i <= 200_000; i += lanes)
        {
            var ys = new float[lanes];
            var es = new float[lanes];
            for (int k = 0; k < lanes; k++)
            {
                ys[k] = -87f * Math.Min(i + k, 200_000) / 200_000f;
                es[k] = Math.Min(i + k, 200_000) / 200_000f;
            }
            Vector<float> exp = BernoulliKernel.ExpOfNonPositive(new Vector<float>(ys)), log1p = BernoulliKernel.Log1pOfUnitInterval(new Vector<float>(es));
            for (int k = 0; k < lanes; k++)
            {
                worstExp = Math.Max(worstExp, Math.Abs(exp[k] - Math.Exp(ys[k])) / Math.Exp(ys[k]));
                double exact = Math.Log(1 + (double)es[k]);
                if (exact > 0) worstLog1p = Math.Max(worstLog1p, Math.Abs(log1p[k] - exact) / exact);
            }
        }
        Assert.True(worstExp < 3e-7, $"exp: worst relative error {worstExp:E2}");
        Assert.True(worstLog1p < 3e-7, $"log1p: worst relative error {worstLog1p:E2}");
    }
}
