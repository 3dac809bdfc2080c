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

    /// <summary>Same shape and every element within <paramref name="tolerance"/> (absolute); fails naming the largest difference.</summary>
    public static void Close(Tensor actual, Tensor expected, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = actual.to_type(ScalarType.Float64).sub(expected.to_type(ScalarType.Float64)).abs().max();
        double largest = difference.item<double>();
        Assert.True(largest <= tolerance, $"largest difference {largest:G3} exceeds {tolerance:G3}");
    }
}
