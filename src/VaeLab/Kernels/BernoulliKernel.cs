using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Kernels;

/// <summary>
/// The Bernoulli log-likelihood with logits, log p(x|l) = Σⱼ xⱼ lⱼ − softplus(lⱼ), row by row in one vectorised pass, and
/// optionally its gradient with respect to the logits, σ(lⱼ) − xⱼ times a scale (that of a loss −c·log p). libtorch
/// computes the same as binary_cross_entropy_with_logits in four passes and its gradient in three more; with its
/// vectorised exp and log1p these element-wise passes took as long as a third of the decoder's matrix products.
/// </summary>
/// <remarks>
/// softplus(l) = max(l, 0) + log1p(e) with e = exp(−|l|) ∈ (0, 1]. Both functions are evaluated here on those ranges only,
/// by polynomials in vector registers (.NET's Vector Exp and Log compute in float64 and took 4 ns per element):
/// exp by range reduction y = n ln 2 + r, |r| ≤ ½ ln 2, and Taylor's series to r⁷ (truncation below 3e-9 relative);
/// log1p(e) = 2 atanh(s) with s = e/(2 + e) ≤ ⅓, as 2s Σₖ s²ᵏ/(2k + 1) to k = 6 (truncation below 1e-8 absolute).
/// Each row's sum is accumulated in float32 lanes and combined in float64.
/// </remarks>
internal static class BernoulliKernel
{
    /// <summary>Whether <see cref="LogProb"/> can evaluate these tensors: float32 on CPU, one shape [N, D], no gradient asked for.</summary>
    public static bool Applies(Tensor x, Tensor logits) =>
        logits.device_type == DeviceType.CPU && x.device_type == DeviceType.CPU &&
        logits.dtype == ScalarType.Float32 && x.dtype == ScalarType.Float32 &&
        logits.dim() == 2 && x.shape.SequenceEqual(logits.shape) &&
        !(is_grad_enabled() && (logits.requires_grad || x.requires_grad));

    /// <summary>
    /// log p(xᵢ|lᵢ) per row [N], the rows split over libtorch's number of threads (importance sampling evaluates thousands of
    /// decoder rows at once, where this pass is a fifth of the decoder's matrix-product time in libtorch's kernels).
    /// </summary>
    public static Tensor LogProb(Tensor x, Tensor logits)
    {
        using Tensor l = logits.contiguous(), targets = x.contiguous();
        int rows = (int)l.shape[0], width = (int)l.shape[1];
        Tensor result = empty(rows, ScalarType.Float32, l.device);
        IntPtr lp = Address(l), xp = Address(targets), rp = Address(result);
        int parts = rows * (long)width < 1 << 16 ? 1 : Math.Max(1, Math.Min(get_num_threads(), rows));
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int start = (int)((long)rows * part / parts), end = (int)((long)rows * (part + 1) / parts);
            unsafe
            {
                var logitSpan = new ReadOnlySpan<float>((float*)lp + (long)start * width, (end - start) * width);
                var targetSpan = new ReadOnlySpan<float>((float*)xp + (long)start * width, (end - start) * width);
                var resultSpan = new Span<float>((float*)rp + start, end - start);
                Evaluate(logitSpan, targetSpan, resultSpan, Span<float>.Empty, 1, width);
            }
        });
        return result;
    }

    // The address of a CPU tensor's first element (native memory: it does not move).
    static unsafe IntPtr Address(Tensor t)
    {
        fixed (byte* first = t.bytes) return (IntPtr)first;
    }

    /// <summary>
    /// Writes log p(xᵢ|lᵢ) for each of the <paramref name="logLikelihood"/>.Length rows of width <paramref name="width"/>, and,
    /// when <paramref name="gradient"/> is not empty, gradient = <paramref name="scale"/> · (σ(l) − x) element-wise (it may be
    /// the logits' own storage: each element is read before it is written). Row r of the targets starts at element
    /// r · <paramref name="targetStride"/> (default: <paramref name="width"/>; a wider stride reads a block of columns).
    /// </summary>
    public static void Evaluate(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> logLikelihood, Span<float> gradient, float scale, int width, int targetStride = 0)
    {
        int rows = logLikelihood.Length;
        if (targetStride == 0) targetStride = width;
        if (targetStride < width) throw new ArgumentOutOfRangeException(nameof(targetStride), targetStride, $"A row stride below the width {width}.");
        if (logits.Length != rows * width || (rows > 0 && targets.Length < (long)(rows - 1) * targetStride + width))
            throw new ArgumentException($"Expected {rows}×{width} logits and targets (row stride {targetStride}), got {logits.Length} and {targets.Length}.");
        bool withGradient = !gradient.IsEmpty;
        if (withGradient && gradient.Length != logits.Length) throw new ArgumentException("The gradient must have the logits' length.", nameof(gradient));
        int lanes = Vector<float>.Count;
        Vector<float> one = Vector<float>.One, vscale = new(scale);
        for (int r = 0; r < rows; r++)
        {
            int offset = r * width;
            ReadOnlySpan<float> l = logits.Slice(offset, width), x = targets.Slice(r * targetStride, width);
            Span<float> g = withGradient ? gradient.Slice(offset, width) : Span<float>.Empty;
            Vector<float> sum = Vector<float>.Zero;
            int j = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; j + lanes <= width; j += lanes)
                {
                    Vector<float> lj = Vector.LoadUnsafe(ref MemoryMarshal.GetReference(l), (nuint)j);
                    Vector<float> xj = Vector.LoadUnsafe(ref MemoryMarshal.GetReference(x), (nuint)j);
                    Vector<float> e = ExpOfNonPositive(-Vector.Abs(lj));
                    Vector<float> u = one + e;
                    Vector<float> log1p = Log1pOfUnitInterval(e);
                    sum += xj * lj - (Vector.Max(lj, Vector<float>.Zero) + log1p);
                    if (withGradient)
                    {
                        // σ(l) = 1/(1 + e) for l ≥ 0, e/(1 + e) below: no overflow either way.
                        Vector<float> sigmoid = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(lj, Vector<float>.Zero), one, e) / u;
                        (vscale * (sigmoid - xj)).StoreUnsafe(ref MemoryMarshal.GetReference(g), (nuint)j);
                    }
                }
            }
            double rowSum = Vector.Sum(sum);
            for (; j < width; j++)
            {
                float lj = l[j], xj = x[j];
                float e = MathF.Exp(-MathF.Abs(lj)), u = 1 + e;
                float log1p = MathF.Log(u) - (u - 1 - e) / u;   // Goldberg's correction of u's rounding
                rowSum += xj * lj - (MathF.Max(lj, 0) + log1p);
                if (withGradient) g[j] = scale * ((lj >= 0 ? 1 : e) / u - xj);
            }
            logLikelihood[r] = (float)rowSum;
        }
    }

    /// <summary>exp(y) for y ≤ 0 (below −87.3, where exp would leave float32's normal range, exp(−87.3) ≈ 1e-38).</summary>
    internal static Vector<float> ExpOfNonPositive(Vector<float> y)
    {
        y = Vector.Max(y, new Vector<float>(-87.3f));
        Vector<float> n = Vector.Floor(y * new Vector<float>(1.44269504f) + new Vector<float>(0.5f));
        // r = y − n ln 2 in two parts (Cody and Waite), so r keeps its precision for large |n|.
        Vector<float> r = y - n * new Vector<float>(0.693145752f) - n * new Vector<float>(1.42860677e-6f);
        Vector<float> p = new(1f / 5040);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 720));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 120));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 24));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 6));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(0.5f));
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        Vector<int> scale = Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23);
        return p * Vector.AsVectorSingle(scale);
    }

    /// <summary>log(1 + e) for e in [0, 1].</summary>
    internal static Vector<float> Log1pOfUnitInterval(Vector<float> e)
    {
        Vector<float> s = e / (new Vector<float>(2f) + e);
        Vector<float> t = s * s;
        Vector<float> p = new(1f / 13);
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 11));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 9));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 7));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 5));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 3));
        p = Vector.FusedMultiplyAdd(p, t, Vector<float>.One);
        return new Vector<float>(2f) * s * p;
    }
}
