namespace VaeLab.Tests;

/// <summary>Exact tensor comparisons for assertions.</summary>
public static class TensorAssert
{
    /// <summary>Same shape, dtype and every element equal.</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var same = a.eq(b).all();
        return same.item<bool>();
    }
}
