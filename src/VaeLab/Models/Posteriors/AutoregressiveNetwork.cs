using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// A MADE network (Germain et al. 2015) with a context input: from z ([..., N, d]) and a context h ([N, c]) it gives a shift m and
/// a gate logit s ([..., N, d] each) where output j depends only on the coordinates of z that come before j in <see cref="Order"/>
/// (and on all of h). One hidden ELU layer of width H. Degrees: input i has degree deg(i) ∈ 1..d (its place in the order), hidden
/// unit k has degree k mod d; input i feeds unit k iff deg(i) ≤ deg(k), unit k feeds output j iff deg(k) &lt; deg(j).
/// </summary>
public sealed class AutoregressiveNetwork : nn.Module
{
    readonly Parameter inputWeight, contextWeight, hiddenBias, outputWeight, outputBias;
    readonly Tensor inputMask, outputMask;

    /// <summary>Creates the network; <paramref name="reversed"/> orders the coordinates d−1, …, 0 instead of 0, …, d−1.</summary>
    public AutoregressiveNetwork(long latentDimensions, long contextSize, long hiddenWidth, bool reversed, double gateBias = 2.0) : base(nameof(AutoregressiveNetwork))
    {
        long d = latentDimensions, h = hiddenWidth;
        Order = Enumerable.Range(0, (int)d).Select(i => reversed ? (int)d - 1 - i : i).ToArray();
        long[] degree = InputDegrees(d, reversed);
        var hiddenDegree = Enumerable.Range(0, (int)h).Select(k => (long)(k % d)).ToArray();
        var input = new float[h * d];
        for (long k = 0; k < h; k++)
            for (long i = 0; i < d; i++)
                input[k * d + i] = degree[i] <= hiddenDegree[k] ? 1 : 0;
        var output = new float[2 * d * h];
        for (long j = 0; j < 2 * d; j++)
            for (long k = 0; k < h; k++)
                output[j * h + k] = hiddenDegree[k] < degree[j % d] ? 1 : 0;
        inputMask = tensor(input).view(h, d);
        outputMask = tensor(output).view(2 * d, h);
        double inputBound = 1 / Math.Sqrt(d + contextSize), outputBound = 1 / Math.Sqrt(h);
        inputWeight = new Parameter(empty(h, d).uniform_(-inputBound, inputBound));
        contextWeight = new Parameter(empty(h, contextSize).uniform_(-inputBound, inputBound));
        hiddenBias = new Parameter(empty(h).uniform_(-inputBound, inputBound));
        outputWeight = new Parameter(empty(2 * d, h).uniform_(-outputBound, outputBound));
        // The gate's bias starts at +2 (σ = sigmoid(s) ≈ 0.88), so a fresh flow is close to the identity (Kingma et al. 2016).
        outputBias = new Parameter(cat([empty(d).uniform_(-outputBound, outputBound), full(d, gateBias)]));
        RegisterComponents();   // the masks are Tensor fields: buffers, saved with the weights
    }

    /// <summary>The order of the coordinates: output Order[t] depends on Order[0..t−1].</summary>
    public IReadOnlyList<int> Order { get; }

    /// <summary>deg(i): coordinate i's place (1-based) in the order 0, …, d−1, or d−1, …, 0 when reversed.</summary>
    internal static long[] InputDegrees(long d, bool reversed) => Enumerable.Range(0, (int)d).Select(i => reversed ? d - i : i + 1L).ToArray();

    /// <summary>The shift m and the gate logit s for z [..., N, d] and context [N, c].</summary>
    public (Tensor Shift, Tensor GateLogit) Forward(Tensor z, Tensor context)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = nn.functional.elu(nn.functional.linear(z, inputWeight.mul(inputMask), hiddenBias).add(nn.functional.linear(context, contextWeight)), 1.0);
        Tensor[] parts = nn.functional.linear(hidden, outputWeight.mul(outputMask), outputBias).chunk(2, -1);
        return (parts[0].MoveToOuterDisposeScope(), parts[1].MoveToOuterDisposeScope());
    }

    /// <summary>The weights as float64 arrays (row-major), unmasked, for references written another way: W₁ [H, d], C [H, c], b₁ [H], W₂ [2d, H], b₂ [2d].</summary>
    public (double[] InputWeight, double[] ContextWeight, double[] HiddenBias, double[] OutputWeight, double[] OutputBias) Weights()
    {
        static double[] Read(Tensor t) { using Tensor c = t.detach().to_type(ScalarType.Float64).cpu().contiguous(); return c.data<double>().ToArray(); }
        return (Read(inputWeight), Read(contextWeight), Read(hiddenBias), Read(outputWeight), Read(outputBias));
    }
}
