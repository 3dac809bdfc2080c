using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace VaeLab.Kernels;

/// <summary>
/// The element-wise passes of a linear layer's hand-derived backward pass, vectorised over <see cref="Vector{T}"/>: the
/// bias gradient (column sums) and a ReLU's mask. The matrix products themselves are libtorch's.
/// </summary>
internal static class LinearKernels
{
    /// <summary>∂b = Σᵢ ∂yᵢ: the column sums of a row-major [n, m] matrix.</summary>
    internal static void ColumnSums(ReadOnlySpan<float> matrix, Span<float> sums)
    {
        int m = sums.Length;
        sums.Clear();
        var acc = MemoryMarshal.Cast<float, Vector<float>>(sums);
        int vectorEnd = acc.Length * Vector<float>.Count;
        for (int row = 0; row < matrix.Length; row += m)
        {
            ReadOnlySpan<float> values = matrix.Slice(row, m);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int j = 0; j < acc.Length; j++) acc[j] += vectors[j];
            for (int j = vectorEnd; j < m; j++) sums[j] += values[j];
        }
    }

    /// <summary>A ReLU's backward: the gradient is zero wherever the ReLU's output was not positive.</summary>
    internal static void ZeroWhereOff(Span<float> gradient, ReadOnlySpan<float> activation)
    {
        var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
        var a = MemoryMarshal.Cast<float, Vector<float>>(activation);
        for (int j = 0; j < g.Length; j++) g[j] = Vector.ConditionalSelect(Vector.GreaterThan(a[j], Vector<float>.Zero), g[j], Vector<float>.Zero);
        for (int j = g.Length * Vector<float>.Count; j < gradient.Length; j++) if (!(activation[j] > 0)) gradient[j] = 0;
    }

    /// <summary>A float32 CPU tensor's elements as a span (the tensor must be contiguous).</summary>
    internal static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
