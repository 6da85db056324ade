{
  'targets': [
    {
      'target_name': 'cairn_native',
      'sources': ['cairn.cc'],
      'defines': ['NAPI_VERSION=8'],
      'cflags_cc': ['-O2', '-std=c++17'],
      'cflags_cc!': ['-fno-exceptions'],
      'cflags!': ['-fno-exceptions'],
    },
  ],
}
