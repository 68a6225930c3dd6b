/** Entry point: build the page and expose it for the end-to-end tests as window.kmemView. */
import { App } from './app.js';
import './style.css';

const app = new App(document.getElementById('app')!);
(globalThis as unknown as { kmemView: App }).kmemView = app;
