using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>The content of one IDX file: its dimensions and its unsigned-byte elements as a tensor of that shape.</summary>
/// <param name="Source">The file (or resource) it was read from.</param>
/// <param name="Dimensions">Sizes from the header, outermost first (60000, 28, 28 for MNIST training images).</param>
/// <param name="Data">The elements: a uint8 tensor of shape <paramref name="Dimensions"/>, owned by this array.</param>
public sealed record IdxArray(string Source, int[] Dimensions, Tensor Data) : IDisposable
{
    /// <summary>Number of items along the first dimension (images or labels).</summary>
    public int Count => Dimensions.Length == 0 ? 0 : Dimensions[0];

    /// <summary>Frees the element tensor.</summary>
    public void Dispose() => Data.Dispose();
}
