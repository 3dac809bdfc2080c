using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>The stack of Linear + ReLU layers shared by <see cref="MlpEncoder"/> and <see cref="MlpDecoder"/>.</summary>
internal static class HiddenLayers
{
    /// <summary>
    /// Appends "linear{i}" and "relu{i}" for each width to <paramref name="net"/> (names are part of checkpoints);
    /// returns the width of the last layer (<paramref name="inputWidth"/> when there is none).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A width below 1.</exception>
    public static long Append(Sequential net, long inputWidth, IReadOnlyList<int> widths)
    {
        if (widths.Any(h => h < 1)) throw new ArgumentOutOfRangeException(nameof(widths), "Hidden layer widths must be at least 1.");
        long width = inputWidth;
        for (int i = 0; i < widths.Count; i++)
        {
            net.append($"linear{i}", nn.Linear(width, widths[i]));
            net.append($"relu{i}", nn.ReLU(inplace: true));
            width = widths[i];
        }
        return width;
    }
}
