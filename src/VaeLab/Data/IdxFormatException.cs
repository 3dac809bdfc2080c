namespace VaeLab.Data;

/// <summary>An IDX (MNIST-format) file, or a pair of image and label files, does not hold what the format requires.</summary>
public sealed class IdxFormatException : FormatException
{
    /// <summary>Creates the error for <paramref name="source"/>; the message starts with the file's name.</summary>
    public IdxFormatException(string source, string problem, Exception? inner = null)
        : base($"IDX file '{source}': {problem}", inner)
    {
        Source = source;
        Problem = problem;
    }

    /// <summary>The file (or embedded resource) that was being read.</summary>
    public new string Source { get; }

    /// <summary>What was expected and what was found, without the file name.</summary>
    public string Problem { get; }
}
