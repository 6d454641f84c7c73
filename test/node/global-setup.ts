/*
 * One local server for the whole Node project: started before the first test file, stopped
 * after the last. Tests read its address and admin key with `inject('server')`.
 */
import type { TestProject } from 'vitest/node';
import { startLocalServer } from './server';

export default async function setup(project: TestProject) {
  const server = await startLocalServer();
  project.provide('server', { url: server.url, adminKey: server.adminKey, logFile: server.logFile });
  return () => server.stop();
}
